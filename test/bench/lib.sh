# Sourced by the benchmark scripts: the helpers they all use.

# psql for scripts: quiet, unaligned, fields split by "|", stop on error.
q() { psql -X -q -At -F'|' -v ON_ERROR_STOP=1 "$@"; }

# The median of numbers given on stdin, separated by spaces or newlines.
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
