#!/usr/bin/perl
# Charts over HTTP/2 and HTTP/3 are the bytes HTTP/1.1 gives.  One nginx
# listens on four ports: the harness's plain HTTP/1.1 one (the reference),
# a cleartext HTTP/2 one (curl --http2-prior-knowledge), a TLS one with
# ALPN h2 / http/1.1 (curl --http2 -k), and, when the binary was built
# --with-http_v3_module (nginx >= 1.25), QUIC on the TLS port's number
# (ngtcp2's example client gtlsclient, Debian package ngtcp2-client).
# The certificate is self-signed, made here with the openssl CLI.
#
# Over each protocol: W1 POSTed as PNG, SVG and PDF; a body nginx keeps in
# a temp file (client_body_buffer_size 1k); a body without Content-Length
# (HTTP/2 end of stream); compact GET URLs with their ETag, a 304 and a
# HEAD; a 400 JSON error for a bad spec; several streams multiplexed on one
# connection.  Every body is compared with HTTP/1.1's, byte for byte.
#
# nginx < 1.25.1 turns HTTP/2 on with "listen ... http2", later ones with
# "http2 on;" (the listen parameter is deprecated there).  Without HTTP/3 in
# the binary the HTTP/3 part is skipped, and a test asserts that the binary
# really has none.
#
# gtlsclient can POST a file (-m POST -d FILE; it sends Content-Length and
# no Content-Type, which the module accepts), so HTTP/3 checks POST as well
# as GET.  It saves a body under the last path component of the URL
# (--download), which for a compact W1 URL (~3.8 KB) is longer than a file
# name may be; so bodies are also read back from its hex dump on stderr.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp ();
use File::Spec ();
use IO::Socket::INET ();
use Compress::Zlib ();
use MIME::Base64 ();
use BubbleTest;

require_module();

my $NGINX = $BubbleTest::NGINX;

sub sh_quote {
    my ($s) = @_;
    $s =~ s/'/'\\''/g;
    return "'$s'";
}

sub in_path {
    my ($prog) = @_;
    for my $d (File::Spec->path) {
        return "$d/$prog" if -x "$d/$prog";
    }
    return undef;
}

# --- the client tools ------------------------------------------------------

for my $t (['curl', 'curl'], ['openssl', 'openssl'], ['timeout', 'coreutils'],
           ['gtlsclient', 'ngtcp2-client'])
{
    BAIL_OUT("$t->[0] not found: install the Debian package $t->[1]")
        unless in_path($t->[0]);
}
{
    my $v = `timeout 10 curl -V 2>&1`;
    BAIL_OUT('curl has no HTTP/2 (no "HTTP2" in the Features of curl -V): '
             . 'install the Debian package curl')
        unless $v =~ /^Features:.*\bHTTP2\b/m;
}
my $GTLS = in_path('gtlsclient');

# --- the nginx binary: version and modules ---------------------------------

my $env = $ENV{BUBBLE_NGINX_ENV} ? "env $ENV{BUBBLE_NGINX_ENV} " : '';
my $nginx_v  = `${env}timeout 10 @{[ sh_quote($NGINX) ]} -v 2>&1`;
my $nginx_vv = `${env}timeout 10 @{[ sh_quote($NGINX) ]} -V 2>&1`;
my ($maj, $min, $pat) = $nginx_v =~ m{nginx/(\d+)\.(\d+)\.(\d+)}
    or BAIL_OUT("cannot tell the version of $NGINX from -v: $nginx_v");
my $version = "$maj.$min.$pat";
my $vnum = $maj * 1_000_000 + $min * 1_000 + $pat;
my $has_v2 = $nginx_vv =~ /--with-http_v2_module\b/;
my $has_v3 = $nginx_vv =~ /--with-http_v3_module\b/ && $vnum >= 1_025_000;
my $http2_directive = $vnum >= 1_025_001;

plan skip_all => "nginx $version ($NGINX) was built without "
    . '--with-http_v2_module' unless $has_v2;

note("nginx $version: HTTP/2 with "
     . ($http2_directive ? '"http2 on;"' : '"listen ... http2"')
     . ', HTTP/3 ' . ($has_v3 ? 'on' : 'not built in'));

# --- a self-signed certificate, readable by the workers --------------------

my $tmp = File::Temp->newdir('bubble-h2h3-XXXXXX', TMPDIR => 1,
                             CLEANUP => $ENV{BUBBLE_KEEP} ? 0 : 1);
my $dir = $tmp->dirname;
chmod 0755, $dir;
{
    my $cmd = join(' ', map { sh_quote($_) }
        'timeout', '60', 'openssl', 'req', '-x509', '-nodes',
        '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-keyout', "$dir/key.pem", '-out', "$dir/cert.pem", '-days', '2',
        '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost')
        . ' 2>&1';
    my $out = `$cmd`;
    die "openssl req failed:\n$out" if $? || !-s "$dir/cert.pem";
    chmod 0644, "$dir/key.pem", "$dir/cert.pem";
}

# --- nginx -----------------------------------------------------------------

# A free loopback port; with udp => 1 free for UDP too (QUIC shares the
# number of the TLS listener).
sub free_port {
    my (%o) = @_;
    for (1 .. 100) {
        my $t = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1)
            or die "cannot bind a loopback port: $!";
        my $port = $t->sockport;
        if ($o{udp}) {
            my $u = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                          LocalPort => $port,
                                          Proto => 'udp');
            next unless $u;
            close $u;
        }
        close $t;
        return $port;
    }
    die 'no free loopback port for both TCP and UDP';
}

sub server_conf {
    my ($h2c, $tls) = @_;
    my $listen = $http2_directive
        ? "listen 127.0.0.1:$h2c;\n"
          . "        listen 127.0.0.1:$tls ssl;\n"
          . "        http2 on;\n"
        : "listen 127.0.0.1:$h2c http2;\n"
          . "        listen 127.0.0.1:$tls ssl http2;\n";
    my $quic = $has_v3
        ? "listen 127.0.0.1:$tls quic reuseport;\n"
          . "        http3 on;\n"
        : '';
    return <<"CONF";
        $listen
        $quic
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;

        location /chart {
            bubble;
        }
        # the body lands in a temp file: the module reads it back from there
        location /small {
            bubble;
            client_body_buffer_size 1k;
        }
CONF
}

my ($ngx, $h2c_port, $tls_port);
for my $attempt (1 .. 5) {
    $h2c_port = free_port();
    $tls_port = free_port(udp => 1);
    next if $tls_port == $h2c_port;
    $ngx = eval { start_nginx(server_conf => server_conf($h2c_port, $tls_port)) };
    last if $ngx;
    # lost a port to someone else between the check and nginx's bind
    die $@ unless $@ =~ /Address already in use/ && $attempt < 5;
}
die 'nginx did not start' unless $ngx;
note("HTTP/1.1 on ", $ngx->port, ", h2c on $h2c_port, TLS"
     . ($has_v3 ? ' and QUIC' : '') . " on $tls_port");

# --- clients ---------------------------------------------------------------

my $seq = 0;

# Splits a header block (curl -D) into {status, version, headers}; the last
# block counts (a 100 Continue comes first over HTTP/1.1).
sub parse_head {
    my ($text) = @_;
    my @blocks = grep { /\S/ } split /\r?\n\r?\n/, $text // '';
    my %r = (headers => {});
    return \%r unless @blocks;
    my @lines = split /\r?\n/, $blocks[-1];
    my $sl = shift @lines;
    @r{qw(version status)} = ($1, $2) if $sl =~ m{^HTTP/(\S+)\s+(\d{3})};
    for (@lines) {
        next unless /^([^:\s]+)\s*:\s*(.*?)\s*$/;
        $r{headers}{ lc $1 } = $2;
    }
    return \%r;
}

# curl($url, proto => 'h2c' | 'h2' | 'h1tls', data => FILE, stdin => FILE,
#      headers => [...], head => 1) → {status, http_version and
#      size_download (from -w), headers, body, err}.  With head => 1
#      (curl -I, which writes the header to -o) there is no body file.
sub curl {
    my ($url, %o) = @_;
    my $id = ++$seq;
    my ($bodyf, $headf, $errf) = map { "$dir/curl-$id.$_" } qw(body head err);
    my @a = ('timeout', '60', 'curl', '-sS', '--max-time', '30',
             '-o', $o{head} ? '/dev/null' : $bodyf, '-D', $headf,
             '-w', '%{http_version} %{http_code} %{size_download}');
    push @a, $o{proto} eq 'h2c'   ? ('--http2-prior-knowledge')
           : $o{proto} eq 'h2'    ? ('--http2', '-k')
           : $o{proto} eq 'h1tls' ? ('--http1.1', '-k')
           : die "proto $o{proto}?";
    push @a, '-H', $_ for @{ $o{headers} || [] };
    push @a, '--data-binary', "\@$o{data}" if defined $o{data};
    push @a, '-X', 'POST', '-T', '-' if defined $o{stdin};
    push @a, '-I' if $o{head};
    push @a, $url;
    my $cmd = join(' ', map { sh_quote($_) } @a)
        . ' <' . sh_quote($o{stdin} // '/dev/null')
        . ' 2>' . sh_quote($errf);
    my $w = `$cmd`;
    my $rc = $?;
    my $r = parse_head(-f $headf ? read_file($headf) : '');
    ($r->{http_version}, $r->{code}, $r->{size_download})
        = split ' ', $w // '';
    $r->{rc} = $rc >> 8;
    $r->{body} = -f $bodyf ? read_file($bodyf) : '';
    $r->{err} = -f $errf ? read_file($errf) : '';
    return $r;
}

# Decodes the hex dumps gtlsclient prints of each response body:
#   "http: stream 0x0 body 1157 bytes", then lines
#   "00000000  89 50 4e 47 0d 0a 1a 0a  00 00 00 0d 49 48 44 52  |.PNG........IHDR|",
#   "*" for a run of lines like the one before, and the length alone last.
sub parse_gtls {
    my ($log) = @_;
    my %s;          # stream id (hex) => {status, headers, body, dump_error}
    my $blk;        # the dump being read
    for my $line (split /\n/, $log) {
        if ($blk) {
            if ($line eq '*') {
                $blk->{repeat} = 1;
                next;
            }
            if ($line =~ /^([0-9a-f]{8})(?:  ((?:[0-9a-f]{2} +)+)\|.*)?$/) {
                my ($off, $hex) = (hex $1, $2);
                if ($blk->{repeat}) {
                    $blk->{data} .= $blk->{last}
                        while length($blk->{data}) < $off
                              && length $blk->{last};
                    $blk->{repeat} = 0;
                }
                if (defined $hex) {
                    my $bytes = pack 'H*', join '', $hex =~ /([0-9a-f]{2})/g;
                    $blk->{data} .= $bytes;
                    $blk->{last} = $bytes;
                    next;
                }
                my $st = $s{ $blk->{id} } ||= {};
                $st->{dump_error} = "a dump of $blk->{len} bytes decoded to "
                    . length($blk->{data})
                    if length($blk->{data}) != $blk->{len};
                $st->{body} .= $blk->{data};
                undef $blk;
                next;
            }
            next;     # ngtcp2's log lines between dumps
        }
        if ($line =~ /^http: stream 0x([0-9a-f]+) body (\d+) bytes$/) {
            $blk = { id => $1, len => $2, data => '', last => '' };
        } elsif ($line =~ /^http: stream 0x([0-9a-f]+) \[(:?[^:\]]+): (.*)\]$/) {
            my $st = $s{$1} ||= {};
            if ($2 eq ':status') { $st->{status} = $3 }
            else { $st->{headers}{ lc $2 } = $3 }
        }
    }
    $_->{body} //= '' for values %s;
    return \%s;
}

# h3(\@paths, data => FILE) → {rc, alpn, log, responses => [per path:
# {status, headers, body (from the dump), file (the --download copy, or
# undef when the URL's last component is too long for a file name)}]}.
# Every path goes on its own stream of one QUIC connection (ids 0, 4, 8...).
sub h3 {
    my ($paths, %o) = @_;
    my $id = ++$seq;
    my $dl = "$dir/h3-$id";
    mkdir $dl or die "mkdir $dl: $!";
    my @a = ('timeout', '60', $GTLS, '--no-quic-dump',
             '--exit-on-all-streams-close', '--timeout=20s',
             '--handshake-timeout=10s', "--download=$dl");
    push @a, '-m', 'POST', '-d', $o{data} if defined $o{data};
    push @a, '127.0.0.1', $tls_port,
        map { "https://127.0.0.1:$tls_port$_" } @$paths;
    my $errf = "$dir/h3-$id.log";
    my $cmd = join(' ', map { sh_quote($_) } @a)
        . ' </dev/null >' . sh_quote($errf) . ' 2>&1';
    system($cmd);
    my %r = (rc => $? >> 8, log => -f $errf ? read_file($errf) : '');
    $r{alpn} = $r{log} =~ /^Negotiated ALPN is (\S+)/m ? $1 : '';
    my $streams = parse_gtls($r{log});
    for my $i (0 .. $#$paths) {
        my $st = $streams->{ sprintf '%x', 4 * $i } || { body => '' };
        (my $name = $paths->[$i]) =~ s{^.*/}{};
        my $f = "$dl/$name";
        $st->{file} = -f $f ? read_file($f) : undef;
        push @{ $r{responses} }, $st;
    }
    return \%r;
}

# /chart/<base64url(raw deflate(JSON))>.<ext>, as tools/bubble-url builds
sub compact {
    my ($json, $ext, $base) = @_;
    my ($d) = Compress::Zlib::deflateInit(-WindowBits => -15, -Level => 9);
    my ($out) = $d->deflate($json);
    my ($end) = $d->flush();
    (my $b64 = MIME::Base64::encode_base64url($out . $end)) =~ s/=+$//;
    return ($base // '/chart') . "/$b64.$ext";
}

sub write_file {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh $data;
    close $fh or die "$path: $!";
    return $path;
}

# --- the HTTP/1.1 reference ------------------------------------------------

my $w1 = bench_spec('w1');
my $w1_file = write_file("$dir/w1.json", $w1);
my $small = json_encode({ width => 200, height => 150, title => 'h3',
                          data => [ { x => 1, y => 2, size => 3 },
                                    { x => 2, y => 3, size => 1 },
                                    { x => 3, y => 1, size => 2 } ] });
my $bad = '{"width":800,"height":600,"data":5}';
my $bad_file = write_file("$dir/bad.json", $bad);

my %ctype = (png => qr{^image/png\b}i, svg => qr{^image/svg\+xml\b}i,
             pdf => qr{^application/pdf\b}i);

my %ref;    # name => HTTP/1.1 response
for my $fmt (qw(png svg pdf)) {
    my $r = $ngx->post_chart("/chart.$fmt", $w1);
    is($r->{status}, 200, "HTTP/1.1 POST W1 .$fmt: 200 (reference)");
    like($r->{headers}{'content-type'} // '', $ctype{$fmt},
         "HTTP/1.1 POST W1 .$fmt: Content-Type");
    $ref{"post-$fmt"} = $r;
}
ok(png_info($ref{'post-png'}{body})->{valid},
   'HTTP/1.1 W1 PNG is a valid PNG (reference)');

my %url = (
    'w1-png'    => compact($w1, 'png'),
    'w1-svg'    => compact($w1, 'svg'),
    'small-svg' => compact($small, 'svg'),
);
for my $k (sort keys %url) {
    my $r = $ngx->http_request('GET', $url{$k});
    is($r->{status}, 200, "HTTP/1.1 GET compact $k: 200 (reference)");
    like($r->{headers}{etag} // '', qr/^"[0-9a-f]+"$/,
         "HTTP/1.1 GET compact $k: a strong ETag");
    $ref{"get-$k"} = $r;
}
$ref{'head-w1-png'} = $ngx->http_request('HEAD', $url{'w1-png'});
is($ref{'head-w1-png'}{status}, 200, 'HTTP/1.1 HEAD compact w1-png: 200');
is($ref{'head-w1-png'}{headers}{etag}, $ref{'get-w1-png'}{headers}{etag},
   'HTTP/1.1 HEAD compact w1-png: the GET\'s ETag');
ok($ref{'get-w1-png'}{body} eq $ref{'post-png'}{body},
   'HTTP/1.1: compact W1 PNG URL gives the POST\'s bytes');

$ref{bad} = $ngx->post_chart('/chart.png', $bad);
json_error_ok($ref{bad}, 400, 'invalid_spec', 'HTTP/1.1 bad spec');

# --- HTTP/2 ----------------------------------------------------------------

my %base = (h2c => "http://127.0.0.1:$h2c_port",
            h2  => "https://127.0.0.1:$tls_port");
my %label = (h2c => 'h2c (prior knowledge)', h2 => 'h2 (TLS, ALPN)');

# Checks a curl response against an HTTP/1.1 one.
sub same_as {
    my ($r, $ref, $desc, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $want_v = $o{version} // '2';
    is($r->{http_version}, $want_v, "$desc: curl says HTTP/$want_v")
        or diag("curl exit $r->{rc}: $r->{err}");
    is($r->{status}, $ref->{status}, "$desc: status $ref->{status}");
    is($r->{headers}{'content-type'}, $ref->{headers}{'content-type'},
       "$desc: same Content-Type");
    ok($r->{body} eq $ref->{body},
       "$desc: body byte-identical to HTTP/1.1 (" . length($ref->{body})
       . ' bytes)')
        or diag('got ' . length($r->{body}) . ' bytes: '
                . substr($r->{body}, 0, 200));
}

for my $p (qw(h2c h2)) {
    my $b = $base{$p};
    my $l = $label{$p};

    for my $fmt (qw(png svg pdf)) {
        my $r = curl("$b/chart.$fmt", proto => $p, data => $w1_file,
                     headers => ['Content-Type: application/json']);
        same_as($r, $ref{"post-$fmt"}, "$l POST W1 .$fmt");
    }

    # nginx writes this body to a temp file; the module parses it from there
    my $r = curl("$b/small.png", proto => $p, data => $w1_file,
                 headers => ['Content-Type: application/json']);
    same_as($r, $ref{'post-png'}, "$l POST W1 body in a temp file");

    # no Content-Length: the end of the stream ends the body
    $r = curl("$b/chart.png", proto => $p, stdin => $w1_file,
              headers => ['Content-Type: application/json']);
    same_as($r, $ref{'post-png'}, "$l POST W1 without Content-Length");

    for my $k (sort keys %url) {
        my $ref = $ref{"get-$k"};
        $r = curl("$b$url{$k}", proto => $p);
        same_as($r, $ref, "$l GET compact $k");
        is($r->{headers}{etag}, $ref->{headers}{etag},
           "$l GET compact $k: same ETag");
    }

    # conditional and HEAD requests on the compact URL
    my $ref = $ref{'get-w1-png'};
    $r = curl("$b$url{'w1-png'}", proto => $p,
              headers => ["If-None-Match: $ref->{headers}{etag}"]);
    is($r->{status}, 304, "$l GET compact W1 with its ETag: 304");
    is($r->{body}, '', "$l 304: no body");

    # HEAD never renders, so it has no Content-Length over any protocol
    $r = curl("$b$url{'w1-png'}", proto => $p, head => 1);
    my $href = $ref{'head-w1-png'};
    is($r->{status}, 200, "$l HEAD compact W1: 200");
    is($r->{headers}{$_}, $href->{headers}{$_},
       "$l HEAD compact W1: $_ as over HTTP/1.1")
        for qw(content-type etag content-length);
    is($r->{size_download}, 0, "$l HEAD compact W1: no body");

    # a refusal after the body was read: the same JSON.  Not a refusal
    # before it (413 on Content-Length, 415, 405) with W1's body: nginx
    # answers, then resets the stream (NO_ERROR) whose upload is still
    # under way, and curl 7.88 then fails now and then with "(92) Stream
    # error in the HTTP/2 framing layer" although the response came whole;
    # stock nginx's "return 200" on a POST does the same.
    $r = curl("$b/chart.png", proto => $p, data => $bad_file,
              headers => ['Content-Type: application/json']);
    same_as($r, $ref{bad}, "$l POST bad spec");
    json_error_ok($r, 400, 'invalid_spec', "$l POST bad spec");
}

# HTTP/1.1 on the TLS port (ALPN http/1.1) serves the same bytes
{
    my $r = curl("$base{h2}/chart.png", proto => 'h1tls', data => $w1_file,
                 headers => ['Content-Type: application/json']);
    same_as($r, $ref{'post-png'}, 'HTTP/1.1 over TLS POST W1 .png',
            version => '1.1');
}

# Four POSTs at once, multiplexed on one TLS connection (curl's parallel
# mode waits for the first connection's ALPN, then adds streams to it).
# Not over h2c: curl 7.88's --parallel fails its second and later
# transfers there (curl: (16) Error in the HTTP2 framing layer), with any
# server and any request.
{
    my @paths = qw(/chart.png /chart.svg /small.png /small.svg);
    my @out = map { "$dir/par-$_.out" } 0 .. $#paths;
    my @a = ('timeout', '60', 'curl', '-sS', '--max-time', '30', '-Z',
             '--http2', '-k', '-H', 'Content-Type: application/json',
             '--data-binary', "\@$w1_file",
             '-w', '%{url_effective} %{http_version} %{http_code} '
                   . "%{num_connects}\\n");
    push @a, '-o', $out[$_], "$base{h2}$paths[$_]" for 0 .. $#paths;
    my $cmd = join(' ', map { sh_quote($_) } @a) . ' 2>/dev/null';
    my %res;
    my $connects = 0;
    for (split /\n/, `$cmd`) {
        my ($u, $v, $c, $n) = split ' ';
        next unless defined $n;
        $u =~ s{^https://[^/]+}{};
        $res{$u} = "$v $c";
        $connects += $n;
    }
    for my $i (0 .. $#paths) {
        my ($fmt) = $paths[$i] =~ /\.(\w+)$/;
        is($res{ $paths[$i] }, '2 200',
           "h2 parallel POST $paths[$i]: HTTP/2 200");
        ok(-f $out[$i] && read_file($out[$i]) eq $ref{"post-$fmt"}{body},
           "h2 parallel POST $paths[$i]: byte-identical to HTTP/1.1");
    }
    is($connects, 1, 'h2 parallel: the four streams shared one connection');
}

# --- HTTP/3 ----------------------------------------------------------------

SKIP: {
    if (!$has_v3) {
        ok($vnum < 1_025_000 || $nginx_vv !~ /--with-http_v3_module\b/,
           "nginx $version has no HTTP/3: older than 1.25 or built "
           . 'without --with-http_v3_module');
        skip("nginx $version ($NGINX) has no HTTP/3 "
             . ($vnum < 1_025_000 ? '(older than 1.25.0)'
                                  : '(built without --with-http_v3_module)'),
             1);
    }

    # one POST per stream, three streams on one QUIC connection
    my @paths = qw(/chart.png /chart.svg /small.png);
    my $r = h3(\@paths, data => $w1_file);
    is($r->{alpn}, 'h3', 'HTTP/3 POST W1: the QUIC handshake negotiated h3')
        or diag("gtlsclient exit $r->{rc}:\n" . substr($r->{log}, -3000));
    is($r->{rc}, 0, 'HTTP/3 POST W1: gtlsclient exit 0');
    for my $i (0 .. $#paths) {
        my $st = $r->{responses}[$i];
        my ($fmt) = $paths[$i] =~ /\.(\w+)$/;
        my $ref = $ref{"post-$fmt"};
        my $d = "HTTP/3 POST W1 $paths[$i]";
        is($st->{status}, 200, "$d: 200");
        is($st->{headers}{'content-type'}, $ref->{headers}{'content-type'},
           "$d: same Content-Type");
        ok(!$st->{dump_error}, "$d: the hex dump decodes whole")
            or diag($st->{dump_error});
        ok($st->{body} eq $ref->{body},
           "$d: body byte-identical to HTTP/1.1 (hex dump)")
            or diag('got ' . length($st->{body}) . ' bytes');
        ok(defined $st->{file} && $st->{file} eq $ref->{body},
           "$d: body byte-identical to HTTP/1.1 (--download)");
    }

    # compact GETs: W1's URL is too long a file name for --download, the
    # small spec's is not
    for my $k (sort keys %url) {
        my $ref = $ref{"get-$k"};
        my $d = "HTTP/3 GET compact $k";
        $r = h3([ $url{$k} ]);
        my $st = $r->{responses}[0];
        is($st->{status}, 200, "$d: 200")
            or diag("gtlsclient exit $r->{rc}:\n" . substr($r->{log}, -3000));
        is($st->{headers}{etag}, $ref->{headers}{etag}, "$d: same ETag");
        ok(!$st->{dump_error} && $st->{body} eq $ref->{body},
           "$d: body byte-identical to HTTP/1.1 ("
           . length($ref->{body}) . ' bytes)')
            or diag($st->{dump_error} // 'got ' . length($st->{body})
                    . ' bytes');
        if (length($url{$k}) - rindex($url{$k}, '/') - 1 <= 255) {
            ok(defined $st->{file} && $st->{file} eq $ref->{body},
               "$d: the --download copy too");
        }
    }

    # a refusal: the same JSON error as over HTTP/1.1
    $r = h3(['/chart.png'], data => $bad_file);
    my $st = $r->{responses}[0];
    is($st->{status}, 400, 'HTTP/3 POST bad spec: 400');
    is($st->{headers}{'content-type'}, $ref{bad}{headers}{'content-type'},
       'HTTP/3 POST bad spec: same Content-Type');
    ok($st->{body} eq $ref{bad}{body},
       'HTTP/3 POST bad spec: the same JSON bytes as HTTP/1.1')
        or diag("got: $st->{body}");
}

# --- the server survived all of it -----------------------------------------

{
    my $r = $ngx->post_chart('/chart.png', $w1);
    ok($r->{status} == 200 && $r->{body} eq $ref{'post-png'}{body},
       'HTTP/1.1 after all: still the same bytes');
}
is_deeply([ $ngx->error_log_crashes ], [], 'no worker crashed');
unlike($ngx->error_log_content, qr/\[(?:alert|emerg)\]/,
       'no alert or emerg in error.log');

done_testing();
