# Prints one top-level C function of a source file, from the line before
# "NAME(" at the start of a line (its return type) to the first line that is
# "}", preceded by a #line directive so sanitizer reports name the original
# file and line.  Usage: awk -v name=AppendLogValue -f extract.awk src/audit.c
$0 ~ ("^" name "\\(") {
	found = 1
	printf "#line %d \"%s\"\n%s\n", FNR - 1, FILENAME, prev
}
found {
	print
	if ($0 ~ /^}/)
		exit
}
{ prev = $0 }
