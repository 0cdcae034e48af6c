# Test tokens for the identity-provider tests: keys made with the openssl
# command line (RSA 2048, EC P-256, random HS256 secrets), their JWKS
# entries, compact JWS tokens signed RS256 / ES256 / HS256, an independent
# check of those signatures with openssl, and deliberately forged tokens.
#
#   my $m   = JwtMint->new;                 # keys live in a temporary dir
#   my $rsa = $m->rsa_key(kid => 'r1');
#   my $tok = $m->token($rsa, { iss => ..., sub => ..., aud => ..., exp => ... });
#   $m->jwks($rsa, $ec, $oct)               # {"keys": [...]} as JSON text
#   $m->verifies($rsa, $tok)                # openssl's own verdict
#
# A key is a hash: kty (RSA, EC, oct), kid, alg (the JWS algorithm it signs
# with), the private key file (RSA/EC), the public key as PEM and DER, the
# JWK members (n, e / crv, x, y / k) and, for RSA and EC, the private ones.
package JwtMint;

use strict;
use warnings;
use Carp qw(croak);
use Digest::SHA qw(hmac_sha256);
use Exporter 'import';
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);

our @EXPORT_OK = qw(b64url b64url_decode json_text);

my $json = JSON::PP->new->canonical;

# ------------------------------------------------------------------------
# Encodings
# ------------------------------------------------------------------------

# base64url without padding (RFC 7515 section 2).
sub b64url
{
	my ($bytes) = @_;
	my $s = encode_base64($bytes, '');
	$s =~ tr{+/}{-_};
	$s =~ s/=+$//;
	return $s;
}

sub b64url_decode
{
	my ($s) = @_;
	croak "not base64url: $s" if $s =~ /[^A-Za-z0-9_-]/;
	$s =~ tr{-_}{+/};
	$s .= '=' x ((4 - length($s) % 4) % 4);
	return decode_base64($s);
}

# A Perl structure as canonical JSON text (sorted keys).
sub json_text { return $json->encode($_[0]); }

# DER: one TLV at $pos of $der -> (tag, content, position after it).
sub der_next
{
	my ($der, $pos) = @_;
	croak 'DER: truncated' if $pos + 2 > length $der;
	my $tag = ord substr($der, $pos, 1);
	my $len = ord substr($der, $pos + 1, 1);
	$pos += 2;
	if ($len & 0x80)
	{
		my $n = $len & 0x7f;
		croak 'DER: bad length' if $n == 0 || $n > 4 || $pos + $n > length $der;
		$len = 0;
		$len = ($len << 8) | ord(substr($der, $pos++, 1)) for 1 .. $n;
	}
	croak 'DER: content past the end' if $pos + $len > length $der;
	return ($tag, substr($der, $pos, $len), $pos + $len);
}

# The TLVs inside a constructed value, as [tag, content] pairs.
sub der_items
{
	my ($content) = @_;
	my @items;
	my $pos = 0;
	while ($pos < length $content)
	{
		my ($tag, $value, $next) = der_next($content, $pos);
		push @items, [ $tag, $value ];
		$pos = $next;
	}
	return @items;
}

# A DER INTEGER's content as the unsigned big-endian bytes, no leading zeros.
sub unsigned_bytes
{
	my ($int) = @_;
	$int =~ s/^\x00+//;
	return $int eq '' ? "\x00" : $int;
}

sub left_pad
{
	my ($bytes, $width) = @_;
	croak "value longer than $width bytes" if length $bytes > $width;
	return ("\x00" x ($width - length $bytes)) . $bytes;
}

# ------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------

sub new
{
	my ($class, %opt) = @_;
	my $self = bless { dir => $opt{dir} // tempdir('jwtmint_XXXX', TMPDIR => 1, CLEANUP => 1),
		n => 0 }, $class;
	return $self;
}

# Runs openssl with @args, stdin $in; dies with its stderr on failure.
sub openssl
{
	my ($self, $in, @args) = @_;
	my ($out, $err) = ('', '');
	run([ 'openssl', @args ], \$in, \$out, \$err)
	  or croak "openssl @args failed: $err";
	return $out;
}

sub slurp_bytes
{
	my ($path) = @_;
	open my $fh, '<:raw', $path or croak "$path: $!";
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

sub spew_bytes
{
	my ($path, $bytes) = @_;
	open my $fh, '>:raw', $path or croak "$path: $!";
	print $fh $bytes;
	close $fh;
}

sub new_file
{
	my ($self, $what) = @_;
	return sprintf('%s/%s_%d', $self->{dir}, $what, ++$self->{n});
}

# genpkey into a file; the key's public PEM/DER and private DER (as openssl pkey writes it).
sub generate
{
	my ($self, $kty, @pkeyopt) = @_;
	my $file = $self->new_file(lc $kty) . '.pem';
	$self->openssl('', 'genpkey', '-algorithm', $kty, (map { ('-pkeyopt', $_) } @pkeyopt),
		'-out', $file);
	my $pub_pem = $self->openssl('', 'pkey', '-in', $file, '-pubout');
	my $pub_der = $self->openssl('', 'pkey', '-in', $file, '-pubout', '-outform', 'DER');
	my $priv_der = $self->openssl('', 'pkey', '-in', $file, '-outform', 'DER');
	spew_bytes("$file.pub", $pub_pem);
	return { file => $file, pub_file => "$file.pub", pub_pem => $pub_pem, pub_der => $pub_der,
		priv_der => $priv_der };
}

# The subjectPublicKey BIT STRING of a SubjectPublicKeyInfo (without its
# unused-bits byte), and the algorithm's parameters.
sub spki_key
{
	my ($der) = @_;
	my ($tag, $spki) = der_next($der, 0);
	croak 'SPKI: not a SEQUENCE' unless $tag == 0x30;
	my ($alg, $bits) = der_items($spki);
	croak 'SPKI: no BIT STRING' unless $bits->[0] == 0x03;
	my @alg = der_items($alg->[1]);
	return (substr($bits->[1], 1), $alg[1]);
}

# The private key structure (RSAPrivateKey, ECPrivateKey) of a DER private
# key: inside a PKCS#8 PrivateKeyInfo, or as is ("traditional" form, which
# openssl pkey -outform DER writes).
sub private_key_der
{
	my ($der) = @_;
	my ($tag, $info) = der_next($der, 0);
	my (undef, $second, $third) = der_items($info);
	return $der unless $second->[0] == 0x30;
	croak 'PKCS#8: no OCTET STRING' unless $third->[0] == 0x04;
	return $third->[1];
}

# An RSA key: bits 2048 unless given, kid, alg (a JWK "alg" member; the
# key's algorithm is RS256 whatever it says), e (public exponent).
sub rsa_key
{
	my ($self, %opt) = @_;
	my $bits = $opt{bits} // 2048;
	my $k = $self->generate('RSA', "rsa_keygen_bits:$bits",
		defined $opt{e} ? ("rsa_keygen_pubexp:$opt{e}") : ());
	my ($rsapub) = spki_key($k->{pub_der});
	my ($tag, $seq) = der_next($rsapub, 0);
	my ($n, $e) = map { unsigned_bytes($_->[1]) } der_items($seq);
	my ($tag2, $rsapriv) = der_next(private_key_der($k->{priv_der}), 0);
	my (undef, undef, undef, $d, $p, $q, $dp, $dq, $qi) =
	  map { unsigned_bytes($_->[1]) } der_items($rsapriv);
	return { %$k, kty => 'RSA', alg => 'RS256', kid => $opt{kid}, jwk_alg => $opt{jwk_alg},
		modulus_bits => (length($n) - 1) * 8 + length(sprintf('%b', ord $n)),
		n => b64url($n), e => b64url($e),
		private => { d => b64url($d), p => b64url($p), q => b64url($q), dp => b64url($dp),
			dq => b64url($dq), qi => b64url($qi) } };
}

# An EC key: curve P-256 unless given (openssl's name: P-384, secp256k1...);
# crv is the JWK's curve name (P-256 unless given).
sub ec_key
{
	my ($self, %opt) = @_;
	my $curve = $opt{curve} // 'P-256';
	my $k = $self->generate('EC', "ec_paramgen_curve:$curve");
	my ($point) = spki_key($k->{pub_der});
	croak 'EC: not an uncompressed point' unless substr($point, 0, 1) eq "\x04";
	my $width = (length($point) - 1) / 2;
	my ($tag, $ecpriv) = der_next(private_key_der($k->{priv_der}), 0);
	my (undef, $d) = der_items($ecpriv);
	return { %$k, kty => 'EC', alg => 'ES256', kid => $opt{kid}, jwk_alg => $opt{jwk_alg},
		crv => $opt{crv} // ($curve eq 'P-384' ? 'P-384' : 'P-256'), width => $width,
		x => b64url(substr($point, 1, $width)), y => b64url(substr($point, 1 + $width)),
		private => { d => b64url(left_pad(unsigned_bytes($d->[1]), $width)) } };
}

# An HS256 secret of $opt{bytes} (32) random bytes.
sub hmac_key
{
	my ($self, %opt) = @_;
	my $secret = $self->openssl('', 'rand', $opt{bytes} // 32);
	return { kty => 'oct', alg => 'HS256', kid => $opt{kid}, jwk_alg => $opt{jwk_alg},
		secret => $secret, k => b64url($secret) };
}

# The key's public JWK as a hash (an oct key's is its secret).  %extra is
# merged in last (e.g. use => 'enc', or the private members).
sub jwk
{
	my ($self, $key, %extra) = @_;
	my %j = (kty => $key->{kty});
	$j{kid} = $key->{kid} if defined $key->{kid};
	$j{alg} = $key->{jwk_alg} if defined $key->{jwk_alg};
	if ($key->{kty} eq 'RSA') { @j{qw(n e)} = @$key{qw(n e)}; }
	elsif ($key->{kty} eq 'EC') { @j{qw(crv x y)} = @$key{qw(crv x y)}; }
	else { $j{k} = $key->{k}; }
	%j = (%j, %extra);
	delete $j{$_} for grep { !defined $j{$_} } keys %j;
	return \%j;
}

# The public JWK with its private members too (what a careless admin pastes).
sub private_jwk
{
	my ($self, $key) = @_;
	return $self->jwk($key, %{ $key->{private} });
}

# A JWKS document (JSON text) of keys (made here) or ready JWK hashes.
sub jwks
{
	my ($self, @keys) = @_;
	return json_text({ keys => [ map { (exists $_->{secret} || exists $_->{file}) ? $self->jwk($_) : $_ } @keys ] });
}

# ------------------------------------------------------------------------
# Signing
# ------------------------------------------------------------------------

# The raw JWS signature of $input with $key (in the key's algorithm).
sub signature
{
	my ($self, $key, $input) = @_;
	return hmac_sha256($input, $key->{secret}) if $key->{kty} eq 'oct';
	my $in = $self->new_file('input');
	spew_bytes($in, $input);
	my $sig = $self->openssl('', 'dgst', '-sha256', '-sign', $key->{file}, $in);
	return $sig if $key->{kty} eq 'RSA';
	# openssl writes ECDSA-Sig-Value (DER); JOSE wants r || s, each
	# left-padded to the curve's width
	my ($tag, $seq) = der_next($sig, 0);
	my ($r, $s) = map { unsigned_bytes($_->[1]) } der_items($seq);
	$key->{last_short_rs} = (length($r) < $key->{width} || length($s) < $key->{width}) ? 1 : 0;
	return left_pad($r, $key->{width}) . left_pad($s, $key->{width});
}

# JOSE r||s back to DER, for openssl to verify.
sub ecdsa_der
{
	my ($rs) = @_;
	my $w = length($rs) / 2;
	my $int = sub {
		my $v = unsigned_bytes($_[0]);
		$v = "\x00$v" if ord($v) & 0x80;
		return "\x02" . chr(length $v) . $v;
	};
	my $body = $int->(substr($rs, 0, $w)) . $int->(substr($rs, $w));
	return "\x30" . chr(length $body) . $body;
}

# A compact JWS: header {alg, kid} (+ $opt{header}) and $claims, signed
# with $key.  Options:
#   alg => ...        header alg (default the key's)
#   kid => ...        header kid (default the key's; undef: no kid member)
#   header => {...}   more header members
#   header_json, payload_json  raw JSON text instead of the encoded hashes
#   signed_header_json         sign over this header but present the other
#   sign_with => key  the signing key (default $key)
#   secret => bytes   sign HS256 with these bytes as the HMAC secret
#   signature => bytes         this signature instead
sub token
{
	my ($self, $key, $claims, %opt) = @_;
	my %h = (alg => exists $opt{alg} ? $opt{alg} : $key->{alg});
	$h{kid} = exists $opt{kid} ? $opt{kid} : $key->{kid};
	%h = (%h, %{ $opt{header} // {} });
	delete $h{$_} for grep { !defined $h{$_} } keys %h;
	my $header = $opt{header_json} // json_text(\%h);
	my $payload = $opt{payload_json} // json_text($claims);
	my $signed_header = $opt{signed_header_json} // $header;
	my $input = b64url($signed_header) . '.' . b64url($payload);
	my $sig =
	    exists $opt{signature} ? $opt{signature}
	  : defined $opt{secret}   ? hmac_sha256($input, $opt{secret})
	  :                          $self->signature($opt{sign_with} // $key, $input);
	return b64url($header) . '.' . b64url($payload) . '.' . b64url($sig);
}

# The length in bytes of the key's signatures.
sub signature_length
{
	my ($key) = @_;
	return $key->{kty} eq 'oct' ? 32 : $key->{kty} eq 'EC' ? 2 * $key->{width}
	  : ($key->{modulus_bits} + 7) >> 3;
}

# A validly signed token of exactly $length characters (a claim "pad" and
# maybe a header member "pad" fill it), or undef when base64url lengths
# cannot reach it.
sub token_of_length
{
	my ($self, $key, $claims, $length, %opt) = @_;
	my $dummy = "\x00" x signature_length($key);
	for my $hpad ('', 'x', 'xx', 'xxx')
	{
		my %o = (%opt, header => { %{ $opt{header} // {} }, ($hpad ne '' ? (pad => $hpad) : ()) });
		my $bare = length $self->token($key, { %$claims, pad => '' }, %o, signature => $dummy);
		my $approx = int(($length - $bare) * 3 / 4);
		for my $n (($approx > 3 ? $approx - 3 : 0) .. $approx + 3)
		{
			my %c = (%$claims, pad => 'p' x $n);
			return $self->token($key, \%c, %o)
			  if length($self->token($key, \%c, %o, signature => $dummy)) == $length;
		}
	}
	return undef;
}

# ------------------------------------------------------------------------
# Checking our own tokens, independently of the extension
# ------------------------------------------------------------------------

# Whether $token's signature verifies with $key according to openssl
# (RS256, ES256: openssl dgst -verify; HS256: openssl's HMAC, compared with
# the signature).  The header's alg is not looked at.
sub verifies
{
	my ($self, $key, $token) = @_;
	my @parts = split /\./, $token, -1;
	return 0 unless @parts == 3;
	my $input = "$parts[0].$parts[1]";
	my $sig = b64url_decode($parts[2]);
	my $in = $self->new_file('verify');
	spew_bytes($in, $input);
	if ($key->{kty} eq 'oct')
	{
		my $hex = unpack 'H*', $key->{secret};
		my $out = $self->openssl('', 'dgst', '-sha256', '-mac', 'HMAC', '-macopt', "hexkey:$hex", '-r', $in);
		my ($mac) = split / /, $out;
		return lc($mac) eq unpack('H*', $sig) ? 1 : 0;
	}
	if ($key->{kty} eq 'EC')
	{
		return 0 unless length $sig == 2 * $key->{width};
		$sig = ecdsa_der($sig);
	}
	spew_bytes("$in.sig", $sig);
	my ($out, $err) = ('', '');
	run([ 'openssl', 'dgst', '-sha256', '-verify', $key->{pub_file}, '-signature', "$in.sig", $in ],
		\'', \$out, \$err);
	return $out =~ /^Verified OK/ ? 1 : 0;
}

# The decoded header and payload of a token (hashes), for the tests' own
# sanity checks.
sub decode
{
	my ($self, $token) = @_;
	my ($h, $p) = split /\./, $token;
	return (JSON::PP->new->decode(b64url_decode($h)), JSON::PP->new->decode(b64url_decode($p)));
}

# ------------------------------------------------------------------------
# Forgeries: each takes what it needs and returns a token that a correct
# verifier must refuse.
# ------------------------------------------------------------------------

# The same token with one bit of its signature flipped.
sub forge_bad_signature
{
	my ($self, $token) = @_;
	my ($h, $p, $s) = split /\./, $token;
	my $sig = b64url_decode($s);
	substr($sig, length($sig) >> 1, 1) ^= "\x01";
	return "$h.$p." . b64url($sig);
}

# {"alg": $alg (none)} and an empty signature (or $opt{signature}).
sub forge_alg_none
{
	my ($self, $claims, %opt) = @_;
	my %h = (alg => $opt{alg} // 'none');
	$h{kid} = $opt{kid} if defined $opt{kid};
	return b64url(json_text(\%h)) . '.' . b64url(json_text($claims)) . '.'
	  . (defined $opt{signature} ? b64url($opt{signature}) : '');
}

# HS256 "signed" with an RSA (or EC) key's public key bytes as the HMAC
# secret, naming that key's kid: the classic algorithm confusion.
sub forge_alg_confusion
{
	my ($self, $key, $claims, %opt) = @_;
	my $form = $opt{form} // 'pem';
	my $secret = $form eq 'pem' ? $key->{pub_pem} : $form eq 'der' ? $key->{pub_der}
	  : $form eq 'n' ? b64url_decode($key->{n} // $key->{x}) : croak "form $form";
	return $self->token($key, $claims, alg => 'HS256', secret => $secret);
}

# A valid token's first $keep characters.
sub forge_truncated
{
	my ($self, $token, $keep) = @_;
	return substr($token, 0, $keep // length($token) - 5);
}

# The header and signature of $token around another payload.
sub forge_payload_swap
{
	my ($self, $token, $claims) = @_;
	my ($h, $p, $s) = split /\./, $token;
	return "$h." . b64url(json_text($claims)) . ".$s";
}

# The signature of $token (made over its own header) under another header.
sub forge_header_swap
{
	my ($self, $token, $header) = @_;
	my ($h, $p, $s) = split /\./, $token;
	return b64url(json_text($header)) . ".$p.$s";
}

# A signed token whose payload JSON names $name twice: first $first, then
# $second (what each parser keeps differs).
sub forge_duplicate_claim
{
	my ($self, $key, $claims, $name, $first, $second, %opt) = @_;
	my $text = json_text({ map { $_ => $claims->{$_} } grep { $_ ne $name } keys %$claims });
	my $dup = json_text($name) . ':' . json_text($first) . ',' . json_text($name) . ':' . json_text($second);
	$text =~ s/^\{/{$dup,/ or croak 'claims are not an object';
	$text =~ s/,\}$/}/;
	return $self->token($key, $claims, %opt, payload_json => $text);
}

1;
