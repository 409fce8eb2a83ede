#!/usr/bin/perl
# Self-test of t/lib/BubbleTest.pm against stock nginx (no bubble module):
# start/stop, raw HTTP, PNG checking, config tests, crash detection.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Compress::Zlib ();
use BubbleTest;

plan skip_all => "$BubbleTest::NGINX not found" unless -x $BubbleTest::NGINX;

# --- PNG checker --------------------------------------------------------

sub chunk {
    my ($type, $data) = @_;
    return pack('N', length $data) . $type . $data
        . pack('N', Compress::Zlib::crc32($type . $data));
}

# An RGBA PNG of w×h pixels, filter byte 0 on every row.
sub make_png {
    my ($w, $h) = @_;
    my $raw = '';
    for my $y (0 .. $h - 1) {
        $raw .= "\0" . join '', map { pack 'C4', $_ % 256, $y % 256, 0, 255 }
            0 .. $w - 1;
    }
    return "\x89PNG\r\n\x1a\n"
        . chunk('IHDR', pack('N N C C C C C', $w, $h, 8, 6, 0, 0, 0))
        . chunk('IDAT', Compress::Zlib::compress($raw))
        . chunk('IEND', '');
}

my $png = make_png(7, 5);
my $i = png_info($png);
ok($i->{valid}, 'generated PNG is valid') or diag($i->{error});
is($i->{width}, 7, 'width from IHDR');
is($i->{height}, 5, 'height from IHDR');
is_deeply($i->{chunks}, [qw(IHDR IDAT IEND)], 'chunk walk');

my $t = png_info(substr($png, 0, length($png) - 6));
ok(!$t->{valid}, 'truncated PNG (inside IEND) is invalid');
like($t->{error} // '', qr/truncat|IEND/, 'truncation is the reason');

# Truncated at a chunk boundary: everything before IEND is intact.
my $no_iend = substr($png, 0, length($png) - 12);
ok(!png_info($no_iend)->{valid}, 'PNG without IEND is invalid');

my $corrupt = $png;
substr($corrupt, 40, 1) = chr(ord(substr($corrupt, 40, 1)) ^ 0x01);
my $c = png_info($corrupt);
ok(!$c->{valid}, 'one flipped bit in IDAT makes the PNG invalid');
like($c->{error} // '', qr/CRC/, 'reported as a CRC mismatch');

ok(!png_info('GIF89a' . substr($png, 6))->{valid}, 'bad signature');
ok(!png_info('')->{valid}, 'empty body');
ok(!png_info(undef)->{valid}, 'undef body');
ok(!png_info($png . 'junk')->{valid}, 'data after IEND');

# Right CRCs but an IHDR that promises more rows than the IDAT holds.
my $short = "\x89PNG\r\n\x1a\n"
    . chunk('IHDR', pack('N N C C C C C', 7, 6, 8, 6, 0, 0, 0))
    . substr($png, 8 + 25);
my $s = png_info($short);
ok(!$s->{valid}, 'IDAT shorter than IHDR implies is invalid');
like($s->{error} // '', qr/implies/, 'reported as a size mismatch');

# Interlaced size arithmetic: 1×1 Adam7 has one pass of one pixel.
my $one = "\x89PNG\r\n\x1a\n"
    . chunk('IHDR', pack('N N C C C C C', 1, 1, 8, 0, 0, 0, 1))
    . chunk('IDAT', Compress::Zlib::compress("\0\x80"))
    . chunk('IEND', '');
ok(png_info($one)->{valid}, 'interlaced 1x1 grey PNG is valid');

# --- nginx start, requests, stop ---------------------------------------

my $ngx = start_nginx(
    module      => 0,
    server_conf => q{
        location / { return 200 "hi"; }
        location = /echo {
            add_header X-Len "[$http_content_length]" always;
            add_header X-Ct "$content_type" always;
            add_header X-Te "$http_transfer_encoding" always;
            add_header X-Test "$http_x_test" always;
            return 200 "$request_method $server_protocol";
        }
    },
);
ok($ngx->port, 'nginx started on port ' . $ngx->port);
ok($ngx->master_pid, 'pidfile written');
ok(-d $ngx->dir . '/body', 'client_body_temp_path inside the prefix');

my $r = http_request('GET', '/');
is($r->{status}, 200, 'GET / → 200');
is($r->{body}, 'hi', 'body');
is($r->{headers}{'content-length'}, 2, 'header keys are lowercased');
ok(!$r->{error}, 'response complete') or diag($r->{error});

$r = http_request('POST', '/echo', body => 'abcdef',
                  headers => { 'X-Test' => 'v1',
                               'Content-Type' => 'text/plain' });
is($r->{status}, 200, 'POST /echo');
is($r->{headers}{'x-len'}, '[6]', 'Content-Length added for a body');
is($r->{headers}{'x-ct'}, 'text/plain', 'Content-Type passed through');
is($r->{headers}{'x-test'}, 'v1', 'custom header passed through');
is($r->{body}, 'POST HTTP/1.1', 'HTTP/1.1 by default');

$r = http_request('GET', '/echo', version => '1.0');
is($r->{body}, 'GET HTTP/1.0', 'HTTP/1.0 on request');

$r = http_request('POST', '/echo', body => 'x' x 3000, chunked => 1000);
is($r->{status}, 200, 'chunked POST');
is($r->{headers}{'x-te'}, 'chunked', 'Transfer-Encoding: chunked sent');
is($r->{headers}{'x-len'}, '[]', 'no Content-Length with chunked');

# A header given as undef is not sent (here: a body without a length;
# nginx then treats the request as having no body and answers at once).
$r = http_request('POST', '/echo', body => '',
                  headers => { 'Content-Length' => undef });
is($r->{status}, 200, 'POST without Content-Length');
is($r->{headers}{'x-len'}, '[]', 'Content-Length left out when undef');

$r = http_request('HEAD', '/');
is($r->{status}, 200, 'HEAD');
is($r->{body}, '', 'HEAD has no body');

$r = raw_request("GET / HTTP/1.0\r\n\r\n");
is($r->{status}, 200, 'raw_request');
is($r->{body}, 'hi', 'raw_request body');

$r = raw_request("BROKEN\r\n\r\n");
is($r->{status}, 400, 'raw garbage → 400 from nginx');

# A slow body in pieces.
$r = http_request('POST', '/echo', body => 'abcdef',
                  parts => ['abc', 'def'], delay => 0.2);
is($r->{status}, 200, 'slow body in two parts');
is($r->{headers}{'x-len'}, '[6]', 'Content-Length computed from body');

is_deeply([error_log_crashes($ngx)], [], 'no crashes in error.log');
like($ngx->error_log_content, qr/\[notice\].*start worker process/,
     'error.log is written at info level in the prefix');

# A second server in the same test, on its own port.
my $ngx2 = start_nginx(module => 0, workers => 2,
                       server_conf => 'location / { return 204; }');
isnt($ngx2->port, $ngx->port, 'second server has its own port');
# The port may accept before the master has forked the second worker.
my @w;
for (1 .. 100) {
    last if (@w = $ngx2->worker_pids) == 2;
    select(undef, undef, undef, 0.05);
}
is(scalar @w, 2, 'two workers');
is(http_request('GET', '/')->{status}, 204, 'requests go to the last one');
is($ngx->http_request('GET', '/')->{status}, 200, '... or to a given one');

# Stop on destroy.
my ($pid2, $port2, $dir2) = ($ngx2->master_pid, $ngx2->port, $ngx2->dir);
undef $ngx2;
ok(!BubbleTest::Nginx::_alive($pid2),
   'master is gone (or a zombie) after the object is destroyed');
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port2,
                          Proto => 'tcp'),
   'port no longer accepts');
ok(!-d $dir2 || $ENV{BUBBLE_KEEP}, 'prefix directory removed');

# Crash detection: kill a worker with SIGSEGV; the master logs it.
my $ngx3 = start_nginx(module => 0,
                       server_conf => 'location / { return 204; }');
my ($w) = $ngx3->worker_pids;
kill 'SEGV', $w;
my $deadline = time + 5;
select(undef, undef, undef, 0.1) while !error_log_crashes($ngx3) && time < $deadline;
my @crashes = error_log_crashes($ngx3);
is(scalar @crashes, 1, 'error_log_crashes finds the killed worker');
like($crashes[0] // '', qr/worker process $w exited on signal 11/,
     'crash line names the worker');
undef $ngx3;

# --- start failures and nginx -t ----------------------------------------

eval { start_nginx(module => 0, server_conf => 'no_such_directive 1;') };
like($@, qr/nginx failed to start/, 'start failure dies');
like($@, qr/unknown directive "no_such_directive"/,
     'and the death message carries error.log');

my ($ok, $out) = nginx_config_test(module => 0,
                                   server_conf => 'location / {}');
ok($ok, 'nginx -t passes for a good config') or diag($out);

($ok, $out) = nginx_config_test(module => 0,
                                http_conf => 'keepalive_timeout abc;');
ok(!$ok, 'nginx -t fails for a bad value');
like($out, qr/keepalive_timeout/, 'output names the directive');

($ok, $out) = nginx_config_test("events {}\nhttp { bogus; }\n");
ok(!$ok, 'nginx -t with a full config text');
like($out, qr/unknown directive "bogus"/, 'output for a full config text');

# --- JSON ---------------------------------------------------------------

is_deeply(json_decode('{"a":[1,null]}'), { a => [1, undef] }, 'json_decode');
is(json_decode('{"a":'), undef, 'json_decode: undef on bad JSON');
is(json_encode({ b => 1, a => 2 }), '{"a":2,"b":1}', 'json_encode canonical');

done_testing();
