# Identity providers (README: Identity providers): OIDC tokens minted here (JwtMint.pm,
# openssl) for three providers, one per algorithm (RS256, ES256, HS256),
# against the shared fixture.
#
# - a valid token of each algorithm authenticates its linked principal for
#   the transaction, and RLS on public.models then shows exactly the rows
#   set_principal() of that principal shows;
# - every forged or unacceptable token is refused with SQLSTATE 28000 and
#   the message "invalid token" and nothing more, and with log_denials on
#   writes one LOG line naming a reason (and never the token);
# - leeway, key rotation, disabling, deactivated users, just-in-time users,
#   group-to-team sync (audited), key registration checks, who may read the
#   keys and call the management functions, READ ONLY transactions.
#
# Tokens and key sets reach the server through COPY data (public.jwt_case,
# public.jwt_keys), never in a statement's text, so the server log (which
# has log_statement = all) holds one only if the extension wrote it there.
use strict;
use warnings;

# Cluster->init runs pg_regress --config-auth; PGXS installs it here.
BEGIN
{
	chomp(my $pkglib = `pg_config --pkglibdir`);
	$ENV{PG_REGRESS} //= "$pkglib/pgxs/src/test/regress/pg_regress";
}

use FindBin;
use lib $FindBin::RealBin;
use JwtMint qw(b64url b64url_decode json_text);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('jwt');
$node->init;
$node->append_conf('postgresql.conf', "zenml_rbac.log_denials = on\n");
$node->start;
my $db = 'postgres';
# (the log file may hold earlier runs: this run's part starts here)
my $log_start = -s $node->logfile;

$node->safe_psql($db, 'CREATE EXTENSION zenml_rbac');
is($node->safe_psql($db, q{SELECT count(*) FROM pg_proc WHERE proname = 'authenticate_jwt'}), '1',
	'the extension has authenticate_jwt');
my ($fx_rc, $fx_out, $fx_err) = $node->psql($db, undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', "$FindBin::RealBin/fixture.sql" ]);
is($fx_rc, 0, 'fixture loaded') or diag($fx_err);

my %id = map { split /\|/ } split /\n/, $node->safe_psql($db, q{SELECT name || '|' || id FROM fx});
$id{gx} = $node->safe_psql($db, q{INSERT INTO fx SELECT 'gx', zenml_rbac.create_team((SELECT id FROM fx WHERE name = 'globex'), 'gx') RETURNING id});

$node->safe_psql($db, <<'SQL');
CREATE TABLE public.jwt_case (name text PRIMARY KEY, token text);
CREATE TABLE public.jwt_keys (name text PRIMARY KEY, jwks text NOT NULL);
GRANT SELECT ON public.jwt_case TO fixture_app;
SQL

# ------------------------------------------------------------------------
# Keys and providers
# ------------------------------------------------------------------------

my $m = JwtMint->new;
my %key = (
	r1 => $m->rsa_key(kid => 'r1', jwk_alg => 'RS256'),
	r2 => $m->rsa_key(kid => 'r2'),
	r3 => $m->rsa_key(kid => 'r3'),
	e1 => $m->ec_key(kid => 'e1', jwk_alg => 'ES256'),
	hs => $m->hmac_key(bytes => 48),                  # the hs provider's only key: no kid
	# not registered anywhere: the attacker's
	evil_rsa => $m->rsa_key(kid => 'r1'),
	evil_ec => $m->ec_key(kid => 'e1'),
	evil_hs => $m->hmac_key(bytes => 48));
my %prov = (
	rs => { iss => 'https://rs.idp.test', aud => 'zenml-rs', keys => [ 'r1', 'r2' ] },
	es => { iss => 'https://es.idp.test', aud => 'zenml-es', keys => ['e1'] },
	hs => { iss => 'https://hs.idp.test', aud => 'zenml-hs', keys => ['hs'] });
my %signer = (rs => 'r1', es => 'e1', hs => 'hs');

# Values that come through COPY text format unchanged.
sub copy_escape
{
	my ($s) = @_;
	$s =~ s/\\/\\\\/g;
	$s =~ s/\t/\\t/g;
	$s =~ s/\n/\\n/g;
	$s =~ s/\r/\\r/g;
	return $s;
}

sub load_rows
{
	my ($table, %rows) = @_;
	my $data = join('', map { copy_escape($_) . "\t" . copy_escape($rows{$_}) . "\n" } sort keys %rows);
	$node->safe_psql($db, "COPY public.$table FROM STDIN;\n$data\\.\n");
}

my %token;    # case name -> token

sub add_tokens
{
	my (%t) = @_;
	for (keys %t)
	{
		die "case $_ twice" if exists $token{$_};
		die "case name $_" unless /^[\w.:-]{1,55}$/;
	}
	%token = (%token, %t);
	load_rows('jwt_case', map { defined $t{$_} ? ($_ => $t{$_}) : () } keys %t);
	$node->safe_psql($db, "INSERT INTO public.jwt_case VALUES ('$_', NULL)")
	  for grep { !defined $t{$_} } keys %t;
}

# SQL for a case's token.
sub tok { return "(SELECT token FROM public.jwt_case WHERE name = '$_[0]')"; }

load_rows('jwt_keys',
	map { $_ => $m->jwks(map { $key{$_} } @{ $prov{$_}{keys} }) } keys %prov);
for my $p (sort keys %prov)
{
	like($node->safe_psql($db, qq{SELECT zenml_rbac.register_identity_provider('$p', '$prov{$p}{iss}', '$prov{$p}{aud}',
	    (SELECT jwks::jsonb FROM public.jwt_keys WHERE name = '$p'))}),
		qr/^[0-9a-f-]{36}$/, "provider $p registered");
}

# Every principal but the team is linked at every provider under its name.
my @who = qw(u1 u2 u3 u4 u6 u7 u8 sa1);
$node->safe_psql($db, join('', map {
	my $p = $_;
	map { "SELECT zenml_rbac.link_external_identity('$id{$_}', '$prov{$p}{iss}', '$_');\n" } @who, 'u5'
} sort keys %prov));
# an identity linked at one provider only
$node->safe_psql($db, qq{SELECT zenml_rbac.link_external_identity('$id{u1}', '$prov{rs}{iss}', 'only-at-rs')});

my $now = time;

# The claims of a valid token of provider $p for $sub.
sub claims
{
	my ($p, $sub, %more) = @_;
	my %c = (iss => $prov{$p}{iss}, sub => $sub, aud => $prov{$p}{aud}, exp => $now + 3600,
		iat => $now - 5, nbf => $now - 5, %more);
	delete $c{$_} for grep { !defined $c{$_} } keys %c;
	return \%c;
}

# A valid token of provider $p (signed by its usual key) for $sub.
sub mint
{
	my ($p, $sub, %more) = @_;
	my $opt = delete $more{opt} // {};
	return $m->token($key{ $opt->{key} // $signer{$p} }, claims($p, $sub, %more), %$opt);
}

# ------------------------------------------------------------------------
# Running tokens
# ------------------------------------------------------------------------

my $sentinel = 0;

# Presents each case's token to authenticate_jwt() as fixture_app in one
# session, one statement (one transaction) each, application_name
# "jwt:<case>".  Returns { case => { state, message, extra, result } } and
# the server log written meanwhile (read up to a sentinel statement).
sub present
{
	my (@cases) = @_;
	my $sql = "\\set VERBOSITY verbose\nSET ROLE fixture_app;\n";
	for my $c (@cases)
	{
		$sql .= "\\echo \@\@case $c\n\\warn \@\@case $c\nSET application_name = 'jwt:$c';\n"
		  . 'SELECT zenml_rbac.authenticate_jwt(' . tok($c) . ");\n";
	}
	my $offset = -s $node->logfile;
	my ($rc, $out, $err) = $node->psql($db, $sql, on_error_stop => 0);
	$sentinel++;
	$node->safe_psql($db, "SELECT 'jwt sentinel $sentinel'");
	my $end = $node->wait_for_log(qr/jwt sentinel $sentinel/, $offset);
	my $log = substr(slurp_file($node->logfile, $offset), 0, $end - $offset);
	my %r;
	for my $chunk (split /^\@\@case /m, $out)
	{
		next unless $chunk =~ s/^(\S+)\n//;
		$r{$1}{result} = $chunk =~ s/\n+$//r;
	}
	for my $chunk (split /^\@\@case /m, $err)
	{
		next unless $chunk =~ s/^(\S+)\n//;
		my $c = $1;
		if ($chunk =~ /ERROR:  ([0-9A-Z]{5}): (.*)$/m)
		{
			@{ $r{$c} }{qw(state message)} = ($1, $2);
		}
		# anything a client is told beyond the message
		$r{$c}{extra} = join("\n", $chunk =~ /^((?:DETAIL|HINT):.*)$/mg);
		$r{$c}{stderr} = $chunk;
	}
	return (\%r, $log);
}

# The denial entries of a log stretch, by case (application_name jwt:<case>).
sub denials_by_case
{
	my ($log) = @_;
	my %d;
	while ($log =~ /^[^"'\n]*\] jwt:(\S+) LOG:  zenml_rbac denied: (.*)$/mg)
	{
		my ($c, $line) = ($1, $2);
		my $v = qr/(-|"(?:[^"\\]|\\.)*")/;
		my %e = (line => $line);
		if ($line =~ /^check=jwt reason=$v issuer=$v subject=$v$/)
		{
			@e{qw(reason issuer subject)} = map { unquote($_) } ($1, $2, $3);
		}
		push @{ $d{$c} }, \%e;
	}
	return \%d;
}

# A logged value: "-" for none, else its quoted, escaped form read back.
sub unquote
{
	my ($v) = @_;
	return '-' if $v eq '-';
	$v =~ s/^"(.*)"$/$1/s;
	my %esc = (n => "\n", r => "\r", t => "\t", '"' => '"', '\\' => '\\');
	$v =~ s/\\(x([0-9a-f]{2})|.)/defined $2 ? chr(hex $2) : $esc{$1}/ge;
	return $v;
}

# Runs $sql as fixture_app (after $prefix, run as the superuser); psql's
# (rc, stdout, stderr).
sub as_app
{
	my ($sql, $prefix) = @_;
	return $node->psql($db, ($prefix // '') . "\n\\set VERBOSITY verbose\nSET ROLE fixture_app;\n$sql",
		on_error_stop => 1);
}

# Logs in with a case's token in a transaction: what authenticate_jwt
# returned, current_principal(), the models rows visible, and
# current_principal() after COMMIT.  { error => sqlstate message } if refused.
sub login
{
	my ($case, %opt) = @_;
	my ($rc, $out, $err) = as_app(
		"BEGIN" . ($opt{read_only} ? ' READ ONLY' : '') . ";\n"
		  . 'SELECT zenml_rbac.authenticate_jwt(' . tok($case) . ");\n"
		  . "SELECT zenml_rbac.current_principal();\n"
		  . "SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM models;\n"
		  . "COMMIT;\n"
		  . "SELECT coalesce(zenml_rbac.current_principal()::text, 'none');\n",
		$opt{prefix});
	if ($rc != 0)
	{
		my ($state, $msg) = $err =~ /ERROR:  ([0-9A-Z]{5}): (.*)$/m;
		return { error => ($state // '?') . ' ' . ($msg // $err), stderr => $err };
	}
	my @l = split /\n/, $out, -1;
	return { returned => $l[0], current => $l[1], rows => $l[2], after => $l[3] };
}

# The models rows set_principal($who) shows fixture_app.
sub rows_of
{
	my ($who) = @_;
	my ($rc, $out, $err) = as_app(
		"BEGIN;\nSELECT zenml_rbac.set_principal('$id{$who}');\n"
		  . "SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM models;\nCOMMIT;\n");
	die "rows_of $who: $err" if $rc;
	my @l = split /\n/, $out, -1;
	return $l[-1];
}

# Whether a case is accepted as $who: "ok" or what went wrong.
sub accepted_as
{
	my ($case, $who) = @_;
	my $l = login($case);
	return $l->{error} if $l->{error};
	return "returned $l->{returned}" if $l->{returned} ne $id{$who};
	return "current $l->{current}" if $l->{current} ne $id{$who};
	return 'ok';
}

# ------------------------------------------------------------------------
# Valid tokens: each algorithm, each principal; RLS follows
# ------------------------------------------------------------------------

my %valid;
for my $p (sort keys %prov)
{
	$valid{"ok.$p.$_"} = mint($p, $_) for @who;
}
# openssl and the minting agree before the extension is asked
for my $p (sort keys %prov)
{
	ok($m->verifies($key{ $signer{$p} }, $valid{"ok.$p.u2"}), "openssl verifies our $p token");
	ok(!$m->verifies($key{ $signer{$p} }, $m->forge_bad_signature($valid{"ok.$p.u2"})),
		"openssl refuses our $p token with a flipped bit");
}
add_tokens(%valid);

my %baseline = map { $_ => rows_of($_) } @who;
my %distinct = map { $_ => 1 } values %baseline;
cmp_ok(scalar(keys %distinct), '>=', 4, 'the principals see different sets of rows (the comparison can tell them apart)')
  or diag(explain \%baseline);
is($baseline{u8}, $node->safe_psql($db, q{SELECT string_agg(m.name, ',' ORDER BY m.name) FROM models m JOIN fx ON fx.id = m.tenant_id WHERE fx.name = 'main'}),
	'u8 (an editor of globex/main only) sees exactly the rows of main');

for my $p (sort keys %prov)
{
	for my $w (@who)
	{
		my $l = login("ok.$p.$w");
		is_deeply($l, { returned => $id{$w}, current => $id{$w}, rows => $baseline{$w}, after => 'none' },
			"$p token for $w: authenticate_jwt returns $w, current_principal() is $w, "
			  . "RLS shows what set_principal($w) shows, nothing after COMMIT")
		  or diag(explain $l);
	}
}

# the kid may be left out when the provider has one key (hs has no kid at all)
add_tokens(
	'ok.es.nokid' => mint('es', 'u3', opt => { kid => undef }),
	'ok.rs.r2' => mint('rs', 'u3', opt => { key => 'r2' }),
	'ok.rs.aud-array' => mint('rs', 'u3', aud => [ 'someone-else', $prov{rs}{aud} ]),
	'ok.rs.no-nbf-iat' => mint('rs', 'u3', nbf => undef, iat => undef),
	'ok.hs.typ' => mint('hs', 'u3', opt => { header => { typ => 'JWT' } }),
	'ok.rs.float-exp' => mint('rs', 'u3', exp => $now + 3600.5));
is(accepted_as($_, 'u3'), 'ok', "$_ accepted")
  for qw(ok.es.nokid ok.rs.r2 ok.rs.aud-array ok.rs.no-nbf-iat ok.hs.typ ok.rs.float-exp);

# An ES256 signature whose r or s is shorter than 32 bytes: JOSE left-pads
# it (about one signature in 128; openssl is asked until it makes one).
my ($short_es, $tries);
for $tries (1 .. 2000)
{
	my $t = mint('es', 'u3', jti => "short-$tries");
	if ($key{e1}{last_short_rs})
	{
		$short_es = $t;
		last;
	}
}
ok(defined $short_es && $m->verifies($key{e1}, $short_es), 'minted an ES256 token with a short r or s');
SKIP:
{
	skip 'no short ES256 signature', 2 unless defined $short_es;
	my ($h, $p, $s) = split /\./, $short_es;
	my $sig = b64url_decode($s);
	my ($r, $ss) = (substr($sig, 0, 32), substr($sig, 32));
	s/^\x00+// for $r, $ss;
	add_tokens('ok.es.short-rs' => $short_es, 'bad.es.unpadded-rs' => "$h.$p." . b64url($r . $ss));
	is(accepted_as('ok.es.short-rs', 'u3'), 'ok', 'ES256 with a left-padded short r or s accepted');
	my ($res) = present('bad.es.unpadded-rs');
	is($res->{'bad.es.unpadded-rs'}{state}, '28000', 'the same signature without the padding refused');
}

# The size limit: 16384 bytes accepted, one more refused (both validly signed).
my $at_limit = $m->token_of_length($key{r1}, claims('rs', 'u3'), 16384);
my $over_limit = $m->token_of_length($key{r1}, claims('rs', 'u3'), 16385);
ok(defined $at_limit && defined $over_limit && $m->verifies($key{r1}, $over_limit),
	'minted validly signed tokens of 16384 and 16385 bytes');
add_tokens('ok.rs.16384-bytes' => $at_limit);
is(accepted_as('ok.rs.16384-bytes', 'u3'), 'ok', 'a token of 16384 bytes is accepted');

# ------------------------------------------------------------------------
# Forged and unacceptable tokens
# ------------------------------------------------------------------------

# case => [token, expected reason (regex, or undef), logged issuer, logged subject]
my $u2rs = $valid{'ok.rs.u2'};
my ($rs_h, $rs_p, $rs_s) = split /\./, $u2rs;
my $u2es = $valid{'ok.es.u2'};
my $u2hs = $valid{'ok.hs.u2'};
my $c_rs = claims('rs', 'u2');
my $c_es = claims('es', 'u2');
my $c_hs = claims('hs', 'u2');
my ($rs_iss, $es_iss, $hs_iss) = map { $prov{$_}{iss} } qw(rs es hs);
my $sig_re = qr/signature/i;
my $alg_re = qr/alg/i;

my %forged = (
	# signatures
	'sig.flipped.rs' => [ $m->forge_bad_signature($u2rs), $sig_re, $rs_iss, 'u2' ],
	'sig.flipped.es' => [ $m->forge_bad_signature($u2es), $sig_re, $es_iss, 'u2' ],
	'sig.flipped.hs' => [ $m->forge_bad_signature($u2hs), $sig_re, $hs_iss, 'u2' ],
	'sig.attacker-key.rs' => [ $m->token($key{evil_rsa}, $c_rs), $sig_re, $rs_iss, 'u2' ],
	'sig.attacker-key.es' => [ $m->token($key{evil_ec}, $c_es), $sig_re, $es_iss, 'u2' ],
	'sig.attacker-secret.hs' => [ $m->token($key{evil_hs}, $c_hs), $sig_re, $hs_iss, 'u2' ],
	'sig.empty.rs' => [ "$rs_h.$rs_p.", undef, $rs_iss, 'u2' ],
	'sig.es-as-der' => [ $m->token($key{e1}, $c_es, signature => ecdsa_der_of($u2es)), undef, $es_iss, 'u2' ],
	'sig.rs-with-leading-zero' => [ "$rs_h.$rs_p." . b64url("\x00" . b64url_decode($rs_s)), undef, $rs_iss, 'u2' ],
	'sig.hs-truncated-mac' => [ mac_truncated($u2hs), undef, $hs_iss, 'u2' ],
	'sig.embedded-jwk' => [ $m->token($key{evil_rsa}, $c_rs, header => { jwk => $m->jwk($key{evil_rsa}) }),
		undef, $rs_iss, 'u2' ],
	'swap.payload-sub' => [ $m->forge_payload_swap($u2rs, claims('rs', 'u1')), $sig_re, $rs_iss, 'u1' ],
	'swap.payload-exp' => [ $m->forge_payload_swap($valid{'ok.rs.u3'}, claims('rs', 'u3', exp => $now + 99999)),
		$sig_re, $rs_iss, 'u3' ],
	'swap.header' => [ $m->forge_header_swap($u2rs, { alg => 'RS256', kid => 'r1', typ => 'JWT' }), $sig_re, $rs_iss, 'u2' ],
	'swap.header-kid' => [ $m->forge_header_swap($u2rs, { alg => 'RS256', kid => 'r2' }), $sig_re, $rs_iss, 'u2' ],

	# algorithms
	'alg.none' => [ $m->forge_alg_none($c_hs), $alg_re, $hs_iss, 'u2' ],
	'alg.none-several-keys' => [ $m->forge_alg_none($c_rs), undef, $rs_iss, 'u2' ],
	'alg.none-kid' => [ $m->forge_alg_none($c_rs, kid => 'r1'), $alg_re, $rs_iss, 'u2' ],
	'alg.None' => [ $m->forge_alg_none($c_hs, alg => 'None'), $alg_re, $hs_iss, 'u2' ],
	'alg.NONE-with-sig' => [ $m->forge_alg_none($c_rs, alg => 'NONE', kid => 'r1', signature => b64url_decode($rs_s)),
		$alg_re, $rs_iss, 'u2' ],
	'alg.missing' => [ $m->token($key{r1}, $c_rs, alg => undef), undef, undef, undef ],
	'alg.confusion-pem' => [ $m->forge_alg_confusion($key{r1}, $c_rs, form => 'pem'), $alg_re, $rs_iss, 'u2' ],
	'alg.confusion-der' => [ $m->forge_alg_confusion($key{r1}, $c_rs, form => 'der'), $alg_re, $rs_iss, 'u2' ],
	'alg.confusion-n' => [ $m->forge_alg_confusion($key{r1}, $c_rs, form => 'n'), $alg_re, $rs_iss, 'u2' ],
	'alg.confusion-ec-pem' => [ $m->forge_alg_confusion($key{e1}, $c_es, form => 'pem'), $alg_re, $es_iss, 'u2' ],
	'alg.es256-on-rsa-kid' => [ $m->token($key{evil_ec}, $c_rs, kid => 'r1'), $alg_re, $rs_iss, 'u2' ],
	'alg.rs256-on-ec-kid' => [ $m->token($key{evil_rsa}, $c_es, kid => 'e1'), $alg_re, $es_iss, 'u2' ],
	'alg.rs256-on-oct' => [ $m->token($key{evil_rsa}, $c_hs, kid => undef), $alg_re, $hs_iss, 'u2' ],
	'alg.rs512-label' => [ $m->token($key{r1}, $c_rs, alg => 'RS512'), $alg_re, $rs_iss, 'u2' ],
	'alg.ps256-label' => [ $m->token($key{r1}, $c_rs, alg => 'PS256'), $alg_re, $rs_iss, 'u2' ],
	'alg.lowercase' => [ $m->token($key{r1}, $c_rs, alg => 'rs256'), $alg_re, $rs_iss, 'u2' ],
	'alg.hs512-label' => [ $m->token($key{hs}, $c_hs, alg => 'HS512'), $alg_re, $hs_iss, 'u2' ],
	'hdr.crit' => [ $m->token($key{r1}, $c_rs, header => { crit => ['exp'], exp => 1 }), qr/crit/i, undef, undef ],
	'hdr.crit-empty' => [ $m->token($key{r1}, $c_rs, header => { crit => [] }), qr/crit/i, undef, undef ],
	'hdr.alg-twice' => [ $m->token($key{r1}, $c_rs, header_json => '{"alg":"none","alg":"RS256","kid":"r1"}'),
		undef, undef, undef ],
	'hdr.not-object' => [ $m->token($key{r1}, $c_rs, header_json => '["RS256"]'), undef, undef, undef ],
	'hdr.not-json' => [ $m->token($key{r1}, $c_rs, header_json => '{alg: RS256}'), undef, undef, undef ],
	'hdr.kid-number' => [ $m->token($key{r1}, $c_rs, kid => 1), undef, undef, undef ],

	# keys
	'kid.unknown' => [ $m->token($key{r1}, $c_rs, kid => 'r9'), qr/kid/i, $rs_iss, 'u2' ],
	'kid.missing-several-keys' => [ $m->token($key{r1}, $c_rs, kid => undef), qr/kid/i, $rs_iss, 'u2' ],
	'kid.other-providers' => [ $m->token($key{r1}, $c_es), qr/kid/i, $es_iss, 'u2' ],

	# time
	'time.expired' => [ mint('rs', 'u2', exp => $now - 3600), qr/expir/i, $rs_iss, 'u2' ],
	'time.expired-es' => [ mint('es', 'u2', exp => $now - 3600), qr/expir/i, $es_iss, 'u2' ],
	'time.expired-hs' => [ mint('hs', 'u2', exp => $now - 3600), qr/expir/i, $hs_iss, 'u2' ],
	'time.exp-missing' => [ mint('rs', 'u2', exp => undef), qr/exp/i, $rs_iss, 'u2' ],
	'time.exp-string' => [ mint('rs', 'u2', exp => '' . ($now + 3600) . ' '), undef, undef, undef ],
	'time.exp-huge' => [ $m->token($key{r1}, undef, payload_json => claims_json($c_rs, exp => '1e400')), undef, undef, undef ],
	'time.exp-null' => [ $m->token($key{r1}, undef, payload_json => claims_json($c_rs, exp => 'null')), undef, undef, undef ],
	'time.not-yet-valid' => [ mint('rs', 'u2', nbf => $now + 3600), qr/valid|nbf/i, $rs_iss, 'u2' ],
	'time.issued-in-future' => [ mint('rs', 'u2', iat => $now + 3600), qr/future|iat/i, $rs_iss, 'u2' ],

	# issuer and audience
	'aud.wrong' => [ mint('rs', 'u2', aud => 'zenml-es'), qr/aud/i, $rs_iss, 'u2' ],
	'aud.missing' => [ mint('rs', 'u2', aud => undef), qr/aud/i, $rs_iss, 'u2' ],
	'aud.array-without' => [ mint('rs', 'u2', aud => [ 'zenml-es', 'zenml-hs' ]), qr/aud/i, $rs_iss, 'u2' ],
	'aud.empty-array' => [ mint('rs', 'u2', aud => []), qr/aud/i, $rs_iss, 'u2' ],
	'aud.prefix' => [ mint('rs', 'u2', aud => 'zenml-rs-staging'), qr/aud/i, $rs_iss, 'u2' ],
	'aud.number-in-array' => [ mint('rs', 'u2', aud => [ $prov{rs}{aud}, 7 ]), undef, undef, undef ],
	'iss.unknown' => [ mint('rs', 'u2', iss => 'https://evil.test'), qr/iss/i, 'https://evil.test', 'u2' ],
	'iss.trailing-slash' => [ mint('rs', 'u2', iss => "$rs_iss/"), qr/iss/i, "$rs_iss/", 'u2' ],
	'iss.missing' => [ mint('rs', 'u2', iss => undef), qr/iss/i, undef, undef ],
	'iss.other-provider-signed-rs' => [ mint('rs', 'u2', iss => $hs_iss), undef, $hs_iss, 'u2' ],

	# subject and identity
	'sub.missing' => [ mint('rs', undef), qr/sub/i, $rs_iss, undef ],
	'sub.empty' => [ mint('rs', ''), qr/sub/i, $rs_iss, undef ],
	'sub.number' => [ $m->token($key{r1}, undef, payload_json => claims_json($c_rs, sub => '42')), undef, undef, undef ],
	'sub.unlinked' => [ mint('rs', 'nobody'), undef, $rs_iss, 'nobody' ],
	'sub.linked-elsewhere' => [ mint('hs', 'only-at-rs'), undef, $hs_iss, 'only-at-rs' ],
	'sub.team-name' => [ mint('rs', 'ml'), undef, $rs_iss, 'ml' ],
	'sub.team-uuid' => [ mint('rs', $id{ml}), undef, $rs_iss, $id{ml} ],
	'sub.principal-uuid' => [ mint('rs', $id{u2}), undef, $rs_iss, $id{u2} ],
	'sub.deactivated-u5' => [ mint('rs', 'u5'), undef, $rs_iss, 'u5' ],
	'sub.log-injection' => [ $m->token($key{evil_rsa}, claims('rs', qq{x" reason="ok\nLOG:  forged line})), $sig_re,
		$rs_iss, qq{x" reason="ok\nLOG:  forged line} ],

	# duplicated claims: a second reader could keep either
	'dup.sub' => [ $m->forge_duplicate_claim($key{r1}, $c_rs, 'sub', 'u2', 'u1'), undef, undef, undef ],
	'dup.iss' => [ $m->forge_duplicate_claim($key{r1}, $c_rs, 'iss', 'https://evil.test', $rs_iss), undef, undef, undef ],
	'dup.exp' => [ $m->forge_duplicate_claim($key{r1}, $c_rs, 'exp', $now - 10, $now + 3600), undef, undef, undef ],
	'dup.aud' => [ $m->forge_duplicate_claim($key{r1}, $c_rs, 'aud', 'x', $prov{rs}{aud}), undef, undef, undef ],

	# shapes and encodings
	'shape.payload-array' => [ $m->token($key{r1}, undef, payload_json => json_text([$c_rs])), undef, undef, undef ],
	'shape.payload-string' => [ $m->token($key{r1}, undef, payload_json => '"u2"'), undef, undef, undef ],
	'shape.payload-number' => [ $m->token($key{r1}, undef, payload_json => '42'), undef, undef, undef ],
	'shape.payload-null' => [ $m->token($key{r1}, undef, payload_json => 'null'), undef, undef, undef ],
	'shape.payload-not-json' => [ $m->token($key{r1}, undef, payload_json => '{"iss":'), undef, undef, undef ],
	'shape.payload-trailing' => [ $m->token($key{r1}, undef, payload_json => json_text($c_rs) . '{}'), undef, undef, undef ],
	'shape.payload-nul' => [ $m->token($key{r1}, undef, payload_json => json_text($c_rs) =~ s/\}$/,"x":"a\x00b"}/r), undef, undef, undef ],
	'shape.payload-latin1' => [ $m->token($key{r1}, undef, payload_json => json_text($c_rs) =~ s/\}$/,"x":"\xe9"}/r), undef, undef, undef ],
	'shape.deep-nesting' => [ $m->token($key{r1}, undef, payload_json => json_text($c_rs) =~ s/\}$/,"x":${\('[' x 5000)}${\(']' x 5000)}}/r),
		undef, undef, undef ],
	'shape.two-parts' => [ "$rs_h.$rs_p", undef, undef, undef ],
	'shape.four-parts' => [ "$u2rs.$rs_s", undef, undef, undef ],
	'shape.truncated' => [ $m->forge_truncated($u2rs), undef, undef, undef ],
	'shape.truncated-payload' => [ substr($u2rs, 0, length($rs_h) + 20), undef, undef, undef ],
	'shape.empty' => [ '', undef, undef, undef ],
	'shape.dots' => [ '..', undef, undef, undef ],
	'shape.null' => [ undef, undef, undef, undef ],
	'shape.garbage' => [ 'eyJ*&^%.garbage!.@@', undef, undef, undef ],
	'shape.std-base64' => [ join('.', map { tr/-_/+\//r } split /\./, $u2rs), undef, undef, undef ],
	'shape.padded' => [ "$rs_h.$rs_p.$rs_s=", undef, undef, undef ],
	'shape.padded-payload' => [ padded_payload(grep { length((split /\./)[1]) % 4 } map { mint('rs', 'u2', jti => 'j' x $_) } 1 .. 3),
		undef, undef, undef ],
	'shape.noncanonical-sig' => [ "$rs_h.$rs_p." . noncanonical($rs_s), undef, undef, undef ],
	'shape.whitespace' => [ "$rs_h.$rs_p.\n$rs_s", undef, undef, undef ],
	'shape.leading-space' => [ " $u2rs", undef, undef, undef ],
	'shape.bearer-prefix' => [ "Bearer $u2rs", undef, undef, undef ],
	'shape.oversized' => [ $over_limit, qr/long|size|large/i, undef, undef ],
	'shape.oversized-1mb' => [ 'a' x (1 << 20), qr/long|size|large/i, undef, undef ],
);

# helpers of the table above
sub ecdsa_der_of
{
	my ($token) = @_;
	return JwtMint::ecdsa_der(b64url_decode((split /\./, $token)[2]));
}

sub mac_truncated
{
	my ($token) = @_;
	my ($h, $p, $s) = split /\./, $token;
	return "$h.$p." . b64url(substr(b64url_decode($s), 0, 16));
}

# The claims as JSON with one member's value written as raw JSON text.
sub claims_json
{
	my ($claims, $name, $raw) = @_;
	my $text = json_text({ map { $_ => $claims->{$_} } grep { $_ ne $name } keys %$claims });
	return $text =~ s/\}$/,"$name":$raw}/r;
}

sub padded_payload
{
	my ($token) = @_;
	my ($h, $p, $s) = split /\./, $token;
	die 'payload needs no padding' if length($p) % 4 == 0;
	return "$h.$p" . ('=' x (4 - length($p) % 4)) . ".$s";
}

# The same bytes, spelt with a non-zero unused low bit in the last digit.
sub noncanonical
{
	my ($s) = @_;
	my $alphabet = join('', 'A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_');
	die 'no unused bits' if length($s) % 4 == 0;
	my $last = index($alphabet, substr($s, -1));
	return substr($s, 0, -1) . substr($alphabet, $last | 1, 1);
}

is(b64url_decode(noncanonical($rs_s)), b64url_decode($rs_s), 'the non-canonical signature decodes to the same bytes (leniently)');
ok($m->verifies($key{r1}, $m->token($key{r1}, $c_rs, header_json => '{"alg":"none","alg":"RS256","kid":"r1"}')),
	'the duplicate-alg header token is otherwise validly signed');
ok($m->verifies($key{r1}, $forged{'dup.sub'}[0]), 'the duplicate-sub token is validly signed');
ok($m->verifies($key{r1}, $forged{'alg.rs512-label'}[0]), 'the RS512-labelled token carries a valid RS256 signature');
ok($m->verifies($key{r1}, $forged{'hdr.crit'}[0]), 'the crit token is validly signed');
ok($m->verifies($key{r1}, $forged{'time.expired'}[0]), 'the expired token is validly signed');
ok($m->verifies($key{r1}, $forged{'sub.deactivated-u5'}[0]), 'the token of u5 is validly signed');

add_tokens(map { $_ => $forged{$_}[0] } keys %forged);
my ($res, $log) = present(sort keys %forged);
my $den = denials_by_case($log);

for my $c (sort keys %forged)
{
	my ($t, $reason_re, $iss, $sub) = @{ $forged{$c} };
	my $r = $res->{$c} // {};
	is(join('|', $r->{state} // 'none', $r->{message} // '', $r->{extra} // '', $r->{result} // ''),
		'28000|invalid token||', "$c: refused with 28000 \"invalid token\", nothing more")
	  or diag($r->{stderr} // 'no output');
	my @e = @{ $den->{$c} // [] };
	is(scalar(@e), 1, "$c: one denial line in the server log")
	  or diag(explain \@e);
	next unless @e;
	like($e[0]{reason} // '', qr/\S/, "$c: the line names a reason") or diag($e[0]{line});
	like($e[0]{reason} // '', $reason_re, "$c: the reason says why") or diag($e[0]{line})
	  if $reason_re;
	is($e[0]{issuer}, $iss, "$c: the line names the token's issuer") if defined $iss;
	is($e[0]{subject}, $sub, "$c: the line names the token's subject") if defined $sub;
}

# Every refusal looks the same to the client: message, context, location.
my %client_view;
for my $c (sort keys %forged)
{
	my $v = $res->{$c}{stderr} // '';
	$v =~ s/^psql:<stdin>:\d+: //mg;
	$v =~ s/\n+\z//;
	push @{ $client_view{$v} }, $c;
}
is(scalar(keys %client_view), 1, 'every refusal shows the client the same error, context and location')
  or diag(explain \%client_view);
like((keys %client_view)[0], qr/\AERROR:  28000: invalid token(\n|\z)/, 'namely 28000 "invalid token"');

# The log-injection subject stayed on its line, escaped.
unlike($log, qr/^LOG:  forged line/m, 'a subject cannot start a line of its own in the log');

# ------------------------------------------------------------------------
# Leeway
# ------------------------------------------------------------------------

add_tokens(
	'leeway.expired-30s' => mint('rs', 'u3', exp => $now - 30),
	'leeway.nbf-in-30s' => mint('rs', 'u3', nbf => $now + 30),
	'leeway.iat-in-30s' => mint('rs', 'u3', iat => $now + 30),
	'leeway.expired-90s' => mint('rs', 'u3', exp => $now - 90));
is($node->safe_psql($db, q{LOAD 'zenml_rbac'; SELECT setting || ' ' || unit || ' ' || context FROM pg_settings WHERE name = 'zenml_rbac.jwt_leeway'}),
	'60 s superuser', 'zenml_rbac.jwt_leeway: 60 s by default, superuser only');
for my $c (qw(leeway.expired-30s leeway.nbf-in-30s leeway.iat-in-30s))
{
	is(accepted_as($c, 'u3'), 'ok', "$c accepted with the default leeway (60 s)");
	is(login($c, prefix => "LOAD 'zenml_rbac';\nSET zenml_rbac.jwt_leeway = 0;")->{error}, '28000 invalid token',
		"$c refused with leeway 0");
	is(login($c, prefix => "LOAD 'zenml_rbac';\nSET zenml_rbac.jwt_leeway = 60;")->{returned}, $id{u3},
		"$c accepted with leeway 60 set explicitly");
}
is(login('leeway.expired-90s')->{error}, '28000 invalid token', 'expired 90 s ago: refused with leeway 60');
is(login('leeway.expired-90s', prefix => "LOAD 'zenml_rbac';\nSET zenml_rbac.jwt_leeway = 120;")->{returned}, $id{u3},
	'expired 90 s ago: accepted with leeway 120');
my ($lrc, $lout, $lerr) = as_app('SET zenml_rbac.jwt_leeway = 3600;', "LOAD 'zenml_rbac';");
like($lerr, qr/ERROR:  42501: permission denied to set parameter "zenml_rbac.jwt_leeway"/,
	'an application role cannot widen the leeway');
# nor before the library is loaded in its session (a placeholder setting)
($lrc, $lout, $lerr) = $node->psql($db, "SET ROLE fixture_app;\nSET zenml_rbac.jwt_leeway = 3600;\n"
	  . "BEGIN;\nSELECT zenml_rbac.authenticate_jwt(" . tok('leeway.expired-90s') . ");\nCOMMIT;\n",
	on_error_stop => 0);
like($lerr, qr/ERROR:  invalid token/, 'an application role\'s SET before the library loads widens nothing')
  or diag("stdout: $lout\nstderr: $lerr");

# ------------------------------------------------------------------------
# Rotation, disabling, deactivation
# ------------------------------------------------------------------------

add_tokens(
	'rot.r1' => mint('rs', 'u3', opt => { key => 'r1' }),
	'rot.r2' => mint('rs', 'u3', opt => { key => 'r2' }),
	'rot.r3' => mint('rs', 'u3', opt => { key => 'r3' }));
is(accepted_as('rot.r1', 'u3'), 'ok', 'before rotation: an r1 token is accepted');
isnt(accepted_as('rot.r3', 'u3'), 'ok', 'before rotation: an r3 token is refused');

# a session that has authenticated with r1 stays open across the rotation
my $warm = $node->background_psql($db, on_error_stop => 0);
$warm->query_safe('SET ROLE fixture_app');
is($warm->query_safe('BEGIN; SELECT zenml_rbac.authenticate_jwt(' . tok('rot.r1') . '); COMMIT;'), $id{u3},
	'a warm session authenticates with r1');

load_rows('jwt_keys', 'rs-rotated' => $m->jwks($key{r2}, $key{r3}));
$node->safe_psql($db, q{SELECT zenml_rbac.set_identity_provider_keys('rs', (SELECT jwks::jsonb FROM public.jwt_keys WHERE name = 'rs-rotated'))});
isnt(accepted_as('rot.r1', 'u3'), 'ok', 'after rotation: the removed key r1 no longer signs');
is(accepted_as('rot.r2', 'u3'), 'ok', 'after rotation: the kept key r2 still signs');
is(accepted_as('rot.r3', 'u3'), 'ok', 'after rotation: the new key r3 signs');
$warm->query('BEGIN; SELECT zenml_rbac.authenticate_jwt(' . tok('rot.r1') . '); COMMIT;');
like($warm->{stderr}, qr/ERROR:  invalid token/, 'the warm session refuses r1 after the rotation too');
$warm->quit;

# the rotation is audited, without the keys
my $rot_audit = $node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.audit_events
    WHERE object_kind = 'identity_provider' AND operation = 'UPDATE' AND after->>'name' = 'rs'});
cmp_ok($rot_audit, '>=', 1, 'the key rotation is in audit_events');

$node->safe_psql($db, q{SELECT zenml_rbac.disable_identity_provider('es')});
add_tokens('dis.es' => mint('es', 'u3'), 'dis.rs' => mint('rs', 'u3', opt => { key => 'r2' }));
{
	my ($r, $l) = present('dis.es');
	is(($r->{'dis.es'}{state} // 'none') . ' ' . ($r->{'dis.es'}{message} // ''), '28000 invalid token',
		'a disabled provider\'s token is refused');
	my $d = denials_by_case($l)->{'dis.es'} // [];
	like($d->[0]{reason} // '', qr/disabled/i, 'and the log says the provider is disabled');
}
is(accepted_as('dis.rs', 'u3'), 'ok', 'the other providers still work');
$node->safe_psql($db, q{SELECT zenml_rbac.enable_identity_provider('es')});
is(accepted_as('dis.es', 'u3'), 'ok', 'enabled again: accepted');

# deactivating a user who had logged in with a token
add_tokens('deact.u7' => mint('hs', 'u7'));
is(accepted_as('deact.u7', 'u7'), 'ok', 'u7 logs in while active');
$node->safe_psql($db, "SELECT zenml_rbac.deactivate_user('$id{u7}')");
is(login('deact.u7')->{error}, '28000 invalid token', 'the same token is refused once u7 is deactivated');

# ------------------------------------------------------------------------
# Just-in-time users
# ------------------------------------------------------------------------

$node->safe_psql($db, "SELECT zenml_rbac.set_identity_provider_provisioning('hs', '$id{globex}', 'org_editor')");
add_tokens(
	'jit.newbie' => mint('hs', 'newbie'),
	'jit.newbie-again' => mint('hs', 'newbie', jti => 'second'),
	'jit.other-provider' => mint('es', 'newbie'),
	'jit.ro' => mint('hs', 'read-only-newbie'),
	'jit.slash' => mint('hs', 'a/b'));
my $jit_user = q{SELECT coalesce(string_agg(p.id || ' ' || p.kind || ' ' || p.active, ','), 'none') FROM zenml_rbac.principal p WHERE p.name = 'hs:newbie'};
is($node->safe_psql($db, $jit_user), 'none', 'no user hs:newbie before the first login');
my $first = login('jit.newbie');
my ($jit_id) = $node->safe_psql($db, $jit_user) =~ /^([0-9a-f-]{36}) user true$/;
ok(defined $jit_id, 'the first login created the active user hs:newbie');
is($first->{returned} // $first->{error}, $jit_id // 'none', 'and authenticated as it');
is($first->{current}, $jit_id, 'current_principal() is the new user');
is($node->safe_psql($db, "SELECT string_agg(org_id || ' ' || role, ',') FROM zenml_rbac.org_role_assignment WHERE principal_id = '$jit_id'"),
	"$id{globex} org_editor", 'the new user is an org_editor of globex, nothing else');
is($node->safe_psql($db, "SELECT string_agg(issuer || ' ' || subject, ',') FROM zenml_rbac.external_identity WHERE principal_id = '$jit_id'"),
	"$prov{hs}{iss} newbie", 'and is linked to (hs, newbie)');
my $second = login('jit.newbie-again');
is($second->{returned} // $second->{error}, $jit_id, 'the second login reuses the user');
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.principal WHERE name LIKE '%newbie%'}), '1',
	'still one user');
is($node->safe_psql($db, "SELECT count(*) FROM zenml_rbac.audit_events WHERE object_kind = 'principal' AND operation = 'INSERT' AND after->>'id' = '$jit_id'"),
	'1', 'the provisioning is audited once');
is(login('jit.other-provider')->{error}, '28000 invalid token',
	'the same subject at a provider without provisioning is refused');
is(login('jit.ro', read_only => 1)->{error} // 'accepted', '25006 cannot execute INSERT in a read-only transaction',
	'provisioning in a READ ONLY transaction fails with 25006');
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.principal WHERE name = 'hs:read-only-newbie'}), '0',
	'and creates nobody');
is(login('jit.slash')->{error}, '28000 invalid token', 'a subject that makes no valid user name is refused');

# A user already named like the one provisioning would create.
$node->safe_psql($db, q{SELECT zenml_rbac.create_user('hs:taken')});
add_tokens('jit.name-taken' => mint('hs', 'taken'));
is(login('jit.name-taken')->{error}, '28000 invalid token',
	'provisioning a name another user has is refused with 28000');
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.external_identity WHERE subject = 'taken'}), '0',
	'and links nothing to that user');

# Two first logins of one new subject at once: the second waits for the
# first's uncommitted user, then must not fail otherwise than 28000 (best:
# it authenticates as that user).
add_tokens('jit.race' => mint('hs', 'racer'));
my $first_login = $node->background_psql($db, on_error_stop => 0);
my $second_login = $node->background_psql($db, on_error_stop => 0);
$_->query_safe("SET ROLE fixture_app; \\set VERBOSITY verbose") for $first_login, $second_login;
my $second_pid = $second_login->query_safe('SELECT pg_backend_pid()');
$first_login->query_safe('BEGIN');
my $racer = $first_login->query_safe('SELECT zenml_rbac.authenticate_jwt(' . tok('jit.race') . ')');
like($racer, qr/^[0-9a-f-]{36}$/, 'first login of a new subject, not committed yet');
$second_login->query_until(qr/second login sent/,
	"\\echo second login sent\nBEGIN;\nSELECT zenml_rbac.authenticate_jwt(" . tok('jit.race') . ");\n");
ok($node->poll_query_until($db, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $second_pid"),
	'the second login waits for the first');
$first_login->query_safe('COMMIT');
my ($second_out) = $second_login->query('COMMIT');
my ($second_state, $second_msg) = $second_login->{stderr} =~ /ERROR:  ([0-9A-Z]{5}): (.*)$/m;
my $second_result = defined $second_state ? "$second_state $second_msg" : $second_out;
ok($second_result eq $racer || $second_result eq '28000 invalid token',
	'the concurrent second login authenticates as the new user or is refused with 28000')
  or diag("second login: $second_result");
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.principal WHERE name = 'hs:racer'}), '1',
	'one user for the subject');
$_->quit for $first_login, $second_login;

$node->safe_psql($db, q{SELECT zenml_rbac.set_identity_provider_provisioning('hs', NULL, NULL)});
add_tokens('jit.off' => mint('hs', 'latecomer'));
is(login('jit.off')->{error}, '28000 invalid token', 'provisioning off: an unknown subject is refused');
is(login('jit.newbie-again')->{returned}, $jit_id, 'provisioning off: the provisioned user still logs in');

# ------------------------------------------------------------------------
# Groups to teams
# ------------------------------------------------------------------------

$node->safe_psql($db, <<"SQL");
SELECT zenml_rbac.map_group_to_team('es', 'ml-eng', '$id{ml}');
SELECT zenml_rbac.map_group_to_team('es', 'ml-eng', '$id{gx}');
SELECT zenml_rbac.map_group_to_team('es', 'ml-only', '$id{ml}');
SQL
my $members = sub {
	my ($team) = @_;
	return $node->safe_psql($db, "SELECT coalesce(string_agg(f.name, ',' ORDER BY f.name), '') FROM zenml_rbac.team_member tm JOIN fx f ON f.id = tm.member_id WHERE tm.team_id = '$id{$team}'");
};
my $team_events = sub {
	my ($who) = @_;
	# in transaction order; within one, by team name
	return $node->safe_psql($db, "SELECT coalesce(string_agg(e, ',' ORDER BY x, t), '') FROM (SELECT a.transaction_id AS x, f.name AS t, a.operation || ' ' || f.name AS e FROM zenml_rbac.audit_events a JOIN fx f ON f.id::text = coalesce(a.after, a.before)->>'team_id' WHERE a.object_kind = 'team_member' AND a.subject_id = '$id{$who}') s");
};

my $u4_with_ml = rows_of('u4');
is($members->('ml'), 'u3,u4', 'before: the fixture has u3 and u4 in ml');
my $u4_events0 = $team_events->('u4');

add_tokens(
	'grp.u4.none' => mint('es', 'u4', jti => 'g1'),
	'grp.u4.ml' => mint('es', 'u4', groups => ['ml-eng'], jti => 'g2'),
	'grp.u4.ml-again' => mint('es', 'u4', groups => [ 'ml-eng', 'unmapped' ], jti => 'g3'),
	'grp.u4.ml-ro' => mint('es', 'u4', groups => ['ml-eng'], jti => 'g4'),
	'grp.u4.none-ro' => mint('es', 'u4', groups => [], jti => 'g5'),
	'grp.u2.ml' => mint('es', 'u2', groups => [ 'ml-eng', 'ml-only' ], jti => 'g6'),
	'grp.u2.only' => mint('es', 'u2', groups => ['ml-only'], jti => 'g7'),
	'grp.u6.ml' => mint('es', 'u6', groups => ['ml-eng'], jti => 'g8'),
	'grp.u2.roles' => mint('es', 'u2', roles => ['ml-eng'], groups => [], jti => 'g9'),
	'grp.u2.groups-not-roles' => mint('es', 'u2', groups => ['ml-eng'], jti => 'g10'),
	'grp.u2.roles-empty' => mint('es', 'u2', roles => [], groups => ['ml-eng'], jti => 'g11'));

# a token without the groups claim: u4 leaves ml, and sees accordingly
my $l = login('grp.u4.none');
is($l->{returned}, $id{u4}, 'u4 logs in without a groups claim');
is($members->('ml'), 'u3', 'u4 left ml (a missing claim is no groups)');
my $u4_without_ml = rows_of('u4');
isnt($u4_without_ml, $u4_with_ml, 'u4 sees other rows without ml');
is($l->{rows}, $u4_without_ml, 'in the login transaction RLS already follows the removal');
is($team_events->('u4'), join(',', grep { $_ ne '' } $u4_events0, 'DELETE ml'), 'the removal is audited');

$l = login('grp.u4.ml');
is($members->('ml'), 'u3,u4', 'a token with ml-eng puts u4 back in ml');
is($members->('gx'), '', 'but not in gx: u4 is no member of globex');
is(rows_of('u4'), $u4_with_ml, 'u4 sees the ml rows again');
is($l->{rows}, $u4_with_ml, 'in the login transaction RLS already follows the addition');
is($team_events->('u4'), join(',', grep { $_ ne '' } $u4_events0, 'DELETE ml', 'INSERT ml'), 'the addition is audited');
my $events_before_same = $node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.audit_events});
login('grp.u4.ml-again');
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.audit_events}), $events_before_same,
	'a token whose groups match the memberships changes nothing and writes no audit event');

# READ ONLY: nothing to change is fine; a change cannot be written
is(login('grp.u4.ml-ro', read_only => 1)->{returned}, $id{u4},
	'READ ONLY: a token whose groups match the memberships authenticates');
my $ro = login('grp.u4.none-ro', read_only => 1);
is($ro->{error} // "accepted, ml now: " . $members->('ml'), '25006 cannot execute DELETE in a read-only transaction',
	'READ ONLY: a token that would change a membership fails with 25006');
is($members->('ml'), 'u3,u4', 'and changes nothing');

login('grp.u2.ml');
is(join(' ', $members->('ml'), $members->('gx')), 'u2,u3,u4 u2', 'u2 (in acme and globex) joins ml and gx');
login('grp.u2.only');
is(join(' ', $members->('ml'), $members->('gx')), 'u2,u3,u4 ', 'u2 with ml-only only: stays in ml, leaves gx');
login('grp.u6.ml');
is(join(' ', $members->('ml'), $members->('gx')), 'u2,u3,u4 u6', 'u6 (globex only) joins gx, not ml');

$node->safe_psql($db, q{SELECT zenml_rbac.set_identity_provider_groups_claim('es', 'roles')});
login('grp.u2.groups-not-roles');
is(join(' ', $members->('ml'), $members->('gx')), 'u3,u4 u6',
	'groups claim "roles": a token with "groups" only counts as no groups');
login('grp.u2.roles');
is(join(' ', $members->('ml'), $members->('gx')), 'u2,u3,u4 u2,u6', 'groups are read from "roles" now');
$node->safe_psql($db, "SELECT zenml_rbac.unmap_group_from_team('es', 'ml-eng', '$id{gx}')");
login('grp.u2.roles-empty');
is(join(' ', $members->('ml'), $members->('gx')), 'u3,u4 u2,u6',
	'after unmapping gx: u2 leaves ml (still mapped) and stays in gx (no longer follows the token)');
$node->safe_psql($db, "SELECT zenml_rbac.unmap_group_from_team('es', 'ml-eng', '$id{ml}')");
$node->safe_psql($db, "SELECT zenml_rbac.unmap_group_from_team('es', 'ml-only', '$id{ml}')");
login('grp.u2.roles');
is(join(' ', $members->('ml'), $members->('gx')), 'u3,u4 u2,u6', 'with no mapping left the token changes no team');
is($team_events->('u2'), 'INSERT gx,INSERT ml,DELETE gx,DELETE ml,INSERT gx,INSERT ml,DELETE ml',
	'every change of u2\'s teams is in audit_events, in order');

# ------------------------------------------------------------------------
# Key sets: what registration refuses
# ------------------------------------------------------------------------

my %bad_keys = (
	'private-rsa' => $m->jwks($m->private_jwk($m->rsa_key(kid => 'p1'))),
	'private-rsa-d-only' => $m->jwks($m->jwk($key{r3}, d => $key{r3}{private}{d})),
	'private-ec' => $m->jwks($m->private_jwk($m->ec_key(kid => 'p2'))),
	'rsa-1024' => $m->jwks($m->rsa_key(kid => 'w1', bits => 1024)),
	'rsa-2047' => $m->jwks($m->rsa_key(kid => 'w2', bits => 2047)),
	'ec-p384' => $m->jwks($m->ec_key(kid => 'w3', curve => 'P-384')),
	'ec-secp256k1-as-p256' => $m->jwks($m->ec_key(kid => 'w4', curve => 'secp256k1', crv => 'P-256')),
	'ec-point-off-curve' => $m->jwks($m->jwk($key{e1}, y => $key{e1}{x})),
	'oct-31-bytes' => $m->jwks($m->hmac_key(kid => 'w5', bytes => 31)),
	'kty-okp' => $m->jwks({ kty => 'OKP', crv => 'Ed25519', x => b64url('x' x 32), kid => 'w6' }),
	'kty-missing' => $m->jwks({ n => $key{r3}{n}, e => $key{r3}{e}, kid => 'w7' }),
	'rsa-alg-hs256' => $m->jwks($m->jwk($key{r3}, alg => 'HS256')),
	'rsa-alg-ps256' => $m->jwks($m->jwk($key{r3}, alg => 'PS256')),
	'oct-alg-none' => $m->jwks($m->jwk($key{hs}, alg => 'none')),
	'use-enc' => $m->jwks($m->jwk($key{r3}, use => 'enc')),
	'duplicate-kid' => $m->jwks($key{r2}, $m->jwk($key{r3}, kid => 'r2')),
	'several-without-kid' => $m->jwks($key{r2}, $m->jwk($key{r3}, kid => undef)),
	'rsa-n-not-base64url' => $m->jwks($m->jwk($key{r3}, n => "$key{r3}{n}=")),
	'empty-keys' => '{"keys": []}',
	'keys-not-array' => json_text({ keys => $m->jwk($key{r3}) }),
	'bare-jwk' => json_text($m->jwk($key{r3})));
load_rows('jwt_keys', map { ("bad:$_" => $bad_keys{$_}) } keys %bad_keys);
my $providers_before = $node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.identity_provider});
my $es_keys = q{SELECT md5(keys::text) FROM zenml_rbac.identity_provider WHERE name = 'es'};
my $es_keys_before = $node->safe_psql($db, $es_keys);
my $n = 0;
my @stored;
for my $k (sort keys %bad_keys)
{
	$n++;
	my ($rc, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\n"
		  . "SELECT zenml_rbac.register_identity_provider('bad$n', 'https://bad$n.test', 'x', (SELECT jwks::jsonb FROM public.jwt_keys WHERE name = 'bad:$k'))");
	like($err, qr/ERROR:  22023: /, "register with $k: refused with 22023") or diag($err);
	push @stored, "bad$n" unless $err =~ /ERROR:  22023: /;
	($rc, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\n"
		  . "SELECT zenml_rbac.set_identity_provider_keys('es', (SELECT jwks::jsonb FROM public.jwt_keys WHERE name = 'bad:$k'))");
	like($err, qr/ERROR:  22023: /, "rotate to $k: refused with 22023") or diag($err);
	is($node->safe_psql($db, $es_keys), $es_keys_before, "rotate to $k: es keeps its keys");
	# (put them back if the rotation went through, for the tests after this one)
	$node->safe_psql($db, q{SELECT zenml_rbac.set_identity_provider_keys('es', (SELECT jwks::jsonb FROM public.jwt_keys WHERE name = 'es'))})
	  unless $err =~ /ERROR:  22023: /;
	my $private = $key{r3}{private}{d};
	unlike($err, qr/\Q$private\E/, "$k: the error does not echo private key material");
}
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.identity_provider}), $providers_before + @stored,
	'a refused provider is not stored');
add_tokens('after-bad-rotations' => mint('es', 'u3'));
is(accepted_as('after-bad-rotations', 'u3'), 'ok', 'the refused rotations left es\'s keys as they were');
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.identity_provider p, jsonb_array_elements(p.keys->'keys') k
    WHERE k ?| ARRAY['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth']}), '0', 'no stored key has private members');

# ------------------------------------------------------------------------
# Who can read the keys and call what
# ------------------------------------------------------------------------

for my $t (qw(identity_provider external_identity group_team_map))
{
	my ($rc, $out, $err) = as_app("SELECT count(*) FROM zenml_rbac.$t;");
	like($err, qr/ERROR:  42501: permission denied for table $t/, "fixture_app cannot read zenml_rbac.$t");
}
{
	my ($rc, $out, $err) = as_app("SELECT zenml_rbac._jwt_verify(" . tok('ok.rs.u3') . ");");
	like($err, qr/ERROR:  42501: permission denied for function _jwt_verify/, 'fixture_app cannot call _jwt_verify');
}
is($node->safe_psql($db, q{SELECT coalesce(string_agg(c.oid::regclass::text, ','), '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'zenml_rbac' AND c.relkind IN ('v', 'm') AND has_table_privilege('fixture_app', c.oid, 'SELECT')
     AND (pg_get_viewdef(c.oid) LIKE '%identity_provider%' OR pg_get_viewdef(c.oid) LIKE '%keys%')}),
	'', 'no relation fixture_app may read shows identity_provider or keys');

# key material in the audit log, the catalog's copies, and the server log
# (the values go in by COPY: a statement naming them would be logged)
load_rows('jwt_keys', 'secret:hs' => $key{hs}{k}, (map { ("secret:$_" => $key{$_}{n}) } qw(r1 r2 r3)),
	'secret:e1' => $key{e1}{x});
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.audit_log a, public.jwt_keys s
    WHERE s.name LIKE 'secret:%' AND position(s.jwks IN a::text) > 0}), '0',
	'no key material in the audit log table');
is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.identity_provider p, public.jwt_keys s
    WHERE s.name LIKE 'secret:%' AND position(s.jwks IN p::text) > 0}), '4',
	'(the same search finds the 4 values still registered in identity_provider)');
is($node->safe_psql($db, qq{SELECT count(*) FROM zenml_rbac.audit_events a
    WHERE a.object_kind = 'identity_provider' AND (a.before ? 'keys' OR a.after ? 'keys')}), '0',
	'identity_provider events carry no keys column');
cmp_ok($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.audit_events WHERE object_kind = 'identity_provider'}),
	'>=', 3, 'the providers are audited');

add_tokens('mgmt.u1' => mint('rs', 'u1', opt => { key => 'r2' }));
is(accepted_as('mgmt.u1', 'u1'), 'ok', 'u1 (org_admin of acme) logs in by token');
my %denied_management = (
	register_identity_provider => q{'x', 'https://x.test', 'x', '{"keys": []}'},
	set_identity_provider_keys => q{'rs', '{"keys": []}'},
	disable_identity_provider => q{'rs'},
	enable_identity_provider => q{'rs'},
	set_identity_provider_groups_claim => q{'rs', 'groups'},
	set_identity_provider_provisioning => qq{'rs', '$id{acme}', 'org_admin'},
	link_external_identity => qq{'$id{u1}', '$prov{rs}{iss}', 'me'},
	map_group_to_team => qq{'rs', 'admins', '$id{ml}'},
	unmap_group_from_team => qq{'rs', 'admins', '$id{ml}'});
my @system_with_principal;
for my $f (sort keys %denied_management)
{
	my ($rc, $out, $err) = as_app("SELECT zenml_rbac.$f($denied_management{$f});");
	like($err, qr/ERROR:  42501: /, "fixture_app cannot call $f");
	($rc, $out, $err) = as_app("BEGIN;\nSELECT zenml_rbac.authenticate_jwt(" . tok('mgmt.u1')
		  . ");\nSELECT zenml_rbac.$f($denied_management{$f});\nCOMMIT;");
	like($err, qr/ERROR:  42501: /, "fixture_app acting as u1 (org admin) by token cannot call $f");
	($rc, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\nBEGIN;\nSELECT zenml_rbac.set_principal('$id{u3}');\n"
		  . "SELECT zenml_rbac.$f($denied_management{$f});\nROLLBACK;");
	push @system_with_principal, $f unless $err =~ /ERROR:  42501: /;
}
# README, Security model: the system is a superuser or the extension owner acting
# with no principal set
is(join(', ', @system_with_principal), '',
	'a superuser acting as principal u3 (an org viewer) is not the system: every management function refuses it');
{
	my ($rc, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\nSELECT zenml_rbac.link_external_identity('$id{ml}', '$prov{rs}{iss}', 'team')");
	like($err, qr/ERROR:  22023: /, 'a team cannot be linked to an external identity');
}

# a linked user in READ ONLY, without groups to sync
is(login('ok.hs.u8', read_only => 1)->{rows}, $baseline{u8}, 'READ ONLY: a linked user authenticates and reads');

# ------------------------------------------------------------------------
# Nothing of any token reached the server log
# ------------------------------------------------------------------------

my $server_log = slurp_file($node->logfile, $log_start);
my @leaked = grep {
	my $t = $token{$_};
	defined $t && $t =~ /^[\w-]+\.[\w-]+\.([\w-]{40,})$/ && index($server_log, $1) >= 0
} sort keys %token;
is(join(',', @leaked), '', 'no token signature appears in the server log');
my %secret = ('HS256 secret' => $key{hs}{k}, 'private exponent of r3' => $key{r3}{private}{d});
for my $what (sort keys %secret)
{
	my $at = index($server_log, $secret{$what});
	is($at, -1, "the $what does not appear in the server log")
	  or diag(substr($server_log, $at > 300 ? $at - 300 : 0, 400));
}

$node->stop;
done_testing();
