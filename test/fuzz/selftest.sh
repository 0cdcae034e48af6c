#!/usr/bin/env bash
# Plants one bug at a time in a copy of src/resource_ref.c or src/audit.c
# (src/ itself is never touched), rebuilds the harness that covers it, and
# replays the committed corpus: every mutant must make it fail.  Run through
# "make selftest", which passes the compiler settings.
set -uo pipefail

: "${CLANG:?}" "${FUZZ_CFLAGS:?}" "${PG_CFLAGS:?}" "${PG_LIBDIR:?}" "${SRC:?}" "${BUILD:?}"

# name | file | sed expression
MUTANTS=(
	"hex_accepts_g|resource_ref|s/c <= 'f'/c <= 'g'/"
	"hyphen_not_checked|resource_ref|s/text\[pos\] != '-'/0/"
	"last_slash|resource_ref|s/memchr(text, '\/', len)/memrchr(text, '\/', len)/"
	"action_prefix_match|resource_ref|s/strlen(action_names\[i\]) == len \&\& //"
	"action_reads_past_len|resource_ref|s/strlen(action_names\[i\]) == len \&\& memcmp(action_names\[i\], text, len) == 0/strncmp(action_names[i], text, strlen(action_names[i])) == 0 \&\& strlen(action_names[i]) == len/"
	"bare_length_off_by_one|resource_ref|s/else if (len == 32)/else if (len == 31)/"
	"newline_raw|audit|/case '\\\\n':/{n;s/.*/appendStringInfoChar(buf, 10);/}"
	"quote_unescaped|audit|s/appendStringInfoString(buf, \"\\\\\\\\\\\\\"\");/appendStringInfoChar(buf, '\"');/"
	"del_unescaped|audit|s/ || \*c == 0x7F//"
	"log_value_unbounded|audit|s/if (len > max)/if (0)/"
	"log_cut_not_marked|audit|s/appendStringInfoString(buf, \"...\");/;/"
	"log_cut_mid_character|audit|s/max - keep < 3 \&\& //"
	"presence_byte_zero|audit|s/header\[0\] = 1;/header[0] = 0;/"
	"length_little_endian|audit|s/header\[1\] = (len >> 24)/header[1] = (len >> 0)/"
	"int64_truncated|audit|s/for (int i = 0; i < 8; i++)/for (int i = 0; i < 7; i++)/"
)

fail=0
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r name file expr <<<"$m"
	dir="$BUILD/mutant_$name"
	rm -rf "$dir"
	mkdir -p "$dir"
	sed "$expr" "$SRC/$file.c" >"$dir/$file.c"
	if cmp -s "$SRC/$file.c" "$dir/$file.c"; then
		echo "mutant $name: no longer applies to src/$file.c (update selftest.sh)"
		fail=1
		continue
	fi
	if [ "$file" = resource_ref ]; then
		target=fuzz_resource_ref
		$CLANG $FUZZ_CFLAGS -D_GNU_SOURCE -I"$SRC" -o "$dir/$target" fuzz_resource_ref.c "$dir/resource_ref.c" || { fail=1; continue; }
	else
		awk -v name=AppendLogValue -f extract.awk "$dir/audit.c" >"$dir/audit_log_value.inc"
		for f in HashBytes HashInt64 HashCString; do
			awk -v name=$f -f extract.awk "$dir/audit.c"
		done >"$dir/audit_encoding.inc"
		if ! cmp -s <(grep -v '^#line' "$dir/audit_log_value.inc") <(grep -v '^#line' "$BUILD/audit_log_value.inc"); then
			target=fuzz_log_value
			$CLANG $PG_CFLAGS -I"$dir" -o "$dir/$target" fuzz_log_value.c "$PG_LIBDIR/libpgcommon.a" "$PG_LIBDIR/libpgport.a" || { fail=1; continue; }
		else
			target=fuzz_audit_encoding
			$CLANG $PG_CFLAGS -I"$dir" -o "$dir/$target" fuzz_audit_encoding.c "$PG_LIBDIR/libpgport.a" || { fail=1; continue; }
		fi
	fi
	if { "$dir/$target" -runs=0 -artifact_prefix="$dir/" "corpus/$target"; } >"$dir/log" 2>&1; then
		echo "mutant $name: NOT caught by corpus/$target"
		fail=1
	else
		echo "mutant $name: caught by corpus/$target: $(grep -m1 -E 'property violated|ERROR: AddressSanitizer|runtime error' "$dir/log")"
	fi
done
if [ $fail -eq 0 ]; then
	echo "selftest: all ${#MUTANTS[@]} mutants caught"
fi
exit $fail
