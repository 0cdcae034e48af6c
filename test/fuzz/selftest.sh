#!/usr/bin/env bash
# Plants one bug at a time in a copy of a src/ file a harness compiles
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
	"action_prefix_match|vocabulary|s/strlen(RbacActionNames\[i\]) == len \&\& //"
	"action_reads_past_len|vocabulary|s/strlen(RbacActionNames\[i\]) == len \&\& memcmp(RbacActionNames\[i\], text, len) == 0/strncmp(RbacActionNames[i], text, strlen(RbacActionNames[i])) == 0 \&\& strlen(RbacActionNames[i]) == len/"
	"bare_length_off_by_one|resource_ref|s/else if (len == 32)/else if (len == 31)/"
	"newline_raw|log_value|/case '\\\\n':/{n;s/.*/appendStringInfoChar(buf, 10);/}"
	"quote_unescaped|log_value|s/appendStringInfoString(buf, \"\\\\\\\\\\\\\"\");/appendStringInfoChar(buf, '\"');/"
	"del_unescaped|log_value|s/ || \*c == 0x7F//"
	"log_value_unbounded|log_value|s/if (len > max)/if (0)/"
	"log_cut_not_marked|log_value|s/appendStringInfoString(buf, \"...\");/;/"
	"log_cut_mid_character|log_value|s/max - keep < 3 \&\& //"
	"presence_byte_zero|audit_hash|s/header\[0\] = 1;/header[0] = 0;/"
	"length_little_endian|audit_hash|s/header\[1\] = (len >> 24)/header[1] = (len >> 0)/"
	"int64_truncated|audit_hash|s/for (int i = 0; i < 8; i++)/for (int i = 0; i < 7; i++)/"
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
	# the harness of the file, built with the mutant in place of the original
	case $file in
	resource_ref | vocabulary)
		target=fuzz_resource_ref
		others=$(for f in resource_ref vocabulary; do [ $f = "$file" ] || echo "$SRC/$f.c"; done)
		# shellcheck disable=SC2086
		$CLANG $FUZZ_CFLAGS -D_GNU_SOURCE -I"$SRC" -o "$dir/$target" fuzz_resource_ref.c "$dir/$file.c" $others || { fail=1; continue; }
		;;
	log_value)
		target=fuzz_log_value
		$CLANG $PG_CFLAGS -DFRONTEND -I"$SRC" -o "$dir/$target" fuzz_log_value.c "$dir/log_value.c" \
			"$PG_LIBDIR/libpgcommon.a" "$PG_LIBDIR/libpgport.a" || { fail=1; continue; }
		;;
	audit_hash)
		target=fuzz_audit_encoding
		$CLANG $PG_CFLAGS -DFRONTEND -I"$SRC" -o "$dir/$target" fuzz_audit_encoding.c "$dir/audit_hash.c" \
			"$PG_LIBDIR/libpgcommon.a" "$PG_LIBDIR/libpgport.a" || { fail=1; continue; }
		;;
	esac
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
