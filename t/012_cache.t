#!/usr/bin/perl
# The response cache (bubble_cache_zone): a miss renders and stores, a hit
# sends the same bytes and headers without rendering (bubble_status's
# "renders" does not move; nor for 304 and HEAD); POST is cached by its
# ETag; eviction in a small zone keeps every answer equal to a fresh
# render; `nginx -s reload` keeps the entries; $bubble_cache_status in a
# log_format; errors, refusals and degraded images are never stored; the
# render budget gives up the cache zone's size; signed URLs stay checked.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use IO::Select ();
use IO::Socket::INET ();
use Socket ();
use Compress::Zlib ();
use MIME::Base64 ();
use BubbleTest;

require_module();

my $secret = 'cache-secret-0123456789abcdef';

my $w1 = json_decode(bench_spec('w1'));
my $w2 = json_decode(bench_spec('w2'));

# /chart/<base64url(raw deflate(JSON))>.<ext>, as tools/bubble-url builds
sub compact {
    my ($spec, $ext, $base) = @_;
    my $json = ref $spec ? json_encode($spec) : $spec;
    my ($d) = Compress::Zlib::deflateInit(-WindowBits => -15, -Level => 9);
    my ($out, $st) = $d->deflate($json);
    my ($end) = $d->flush();
    (my $b64 = MIME::Base64::encode_base64url($out . $end)) =~ s/=+$//;
    return ($base // '/chart') . "/$b64." . ($ext // 'png');
}

sub status {
    my ($ngx) = @_;
    return json_decode($ngx->http_request('GET', '/status?format=json')->{body}) // {};
}

# W2 under another title: another chart, another entry
sub w2_titled {
    my ($n, %more) = @_;
    return { %$w2, title => "thumbnail $n", %more };
}

# --- configuration ----------------------------------------------------------

{
    my @bad = (
        ['no size', 'bubble_cache_zone charts;', qr/name:size/],
        ['a tiny zone', 'bubble_cache_zone charts:8k;', qr/at least/],
        ['max_entry over half the zone',
         'bubble_cache_zone charts:1m max_entry=600k;', qr/max_entry/],
        ['valid=never', 'bubble_cache_zone charts:1m valid=never;',
         qr/valid/],
        ['an unknown parameter', 'bubble_cache_zone charts:1m size=2;',
         qr/invalid parameter/],
        ['twice', 'bubble_cache_zone a:1m; bubble_cache_zone b:1m;',
         qr/duplicate/],
        ['the name of the bubble_zone',
         'bubble_zone charts:1m; bubble_cache_zone charts:1m;',
         qr/charts/],
        ['a cache as large as bubble_memory_limit',
         'bubble_zone b:1m; bubble_memory_limit 8m; '
         . 'bubble_cache_zone charts:8m;', qr/leaves nothing/],
    );
    for my $b (@bad) {
        my ($ok, $out) = nginx_config_test(http_conf => $b->[1]);
        ok(!$ok, "nginx -t rejects $b->[0]");
        like($out, $b->[2], "$b->[0]: the message says why") or diag($out);
    }

    my ($ok, $out) = nginx_config_test(
        http_conf => 'bubble_cache_zone charts:1m max_entry=256k valid=1h;',
        server_conf => 'location /chart { bubble; bubble_cache off; '
                     . 'bubble_cache_header on; }');
    ok($ok, 'nginx -t accepts a zone with max_entry, valid and '
          . 'bubble_cache off') or diag($out);
}

# --- one nginx, two workers: miss, hit, 304, HEAD, POST, log --------------

my $ngx = start_nginx(
    workers => 2,
    main_conf => 'thread_pool render threads=2;',
    http_conf => q{
        bubble_zone bubble:1m;
        bubble_memory_limit 256m;
        bubble_cache_zone charts:4m;
        log_format cache '$request_method $uri $status $bubble_cache_status';
    },
    server_conf => qq{
        access_log cache.log cache;
        location /chart { bubble; bubble_cache_header on; }
        location /nocache { bubble; bubble_cache off; bubble_cache_header on; }
        location /quiet { bubble; }
        location /threaded {
            bubble;
            bubble_thread_pool render;
            bubble_cache_header on;
        }
        location /signed {
            bubble;
            bubble_cache_header on;
            bubble_url_secret $secret;
        }
        location = /status { bubble_status; }
    });

ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
   'two workers have their slots');

my $st0 = status($ngx);
is($st0->{cache}{zone}, 'charts', 'status: the cache zone');
is($st0->{cache}{size}, 4 * 1024 * 1024, 'status: its size');
is($st0->{cache}{max_entry}, 1024 * 1024, 'status: max_entry, a quarter');
is($st0->{cache}{entries}, 0, 'status: empty');
is($st0->{budget}, 252 * 1024 * 1024,
   'the render budget gives up the cache zone: 256m - 4m');

my $url = compact($w1);
my ($miss, $etag);
{
    my $r0 = status($ngx)->{renders};

    $miss = $ngx->http_request('GET', $url);
    is($miss->{status}, 200, 'W1 GET: 200');
    is($miss->{headers}{'x-bubble-cache'}, 'MISS', 'first: MISS');
    ok(png_info($miss->{body})->{valid}, 'a valid PNG');
    is(status($ngx)->{renders}, $r0 + 1, 'a miss renders once');
    $etag = $miss->{headers}{etag};

    for my $i (1 .. 3) {
        my $hit = $ngx->http_request('GET', $url);
        is($hit->{headers}{'x-bubble-cache'}, 'HIT', "again: HIT ($i)");
        ok($hit->{body} eq $miss->{body}, "the same bytes ($i)");
        for my $h ('content-type', 'content-length', 'etag', 'cache-control',
                   'x-bubble-dropped-rows')
        {
            is($hit->{headers}{$h}, $miss->{headers}{$h},
               "the same $h ($i)");
        }
    }

    my $nm = $ngx->http_request('GET', $url,
                                headers => { 'If-None-Match' => $etag });
    is($nm->{status}, 304, 'If-None-Match: 304');
    is($nm->{headers}{'x-bubble-cache'}, 'HIT', 'a 304 from the cache');
    is($nm->{body}, '', 'no body');
    is($nm->{headers}{etag}, $etag, 'the ETag');

    my $other = $ngx->http_request('GET', $url,
                                   headers => { 'If-None-Match' => '"0"' });
    is($other->{status}, 200, 'another ETag: 200');
    ok($other->{body} eq $miss->{body}, 'with the bytes');

    my $head = $ngx->http_request('HEAD', $url);
    is($head->{status}, 200, 'HEAD: 200');
    is($head->{headers}{'x-bubble-cache'}, 'HIT', 'HEAD: HIT');
    is($head->{headers}{'content-length'}, length $miss->{body},
       'HEAD: the Content-Length of the bytes');

    is(status($ngx)->{renders}, $r0 + 1,
       'hits, the 304 and HEAD rendered nothing');
}

# POST: by the chart's ETag, after parsing
{
    my $r0 = status($ngx)->{renders};
    my $p1 = $ngx->post_chart('/chart.png', $w1);
    is($p1->{headers}{'x-bubble-cache'}, 'MISS', 'POST W1: MISS');
    ok($p1->{body} eq $miss->{body}, 'POST: the GET\'s bytes');
    my $p2 = $ngx->post_chart('/chart.png', json_encode($w1) . "\n\n");
    is($p2->{headers}{'x-bubble-cache'}, 'HIT',
       'the same chart POSTed with other bytes: HIT');
    ok($p2->{body} eq $miss->{body}, 'the same image');
    is($p2->{headers}{etag}, $etag, 'the same ETag');
    ok(!defined $p2->{headers}{'cache-control'},
       'no Cache-Control on a POST, as a render\'s');
    is(status($ngx)->{renders}, $r0 + 1, 'two POSTs, one render');
}

# other formats; dropped rows are kept with the entry
{
    my $svg1 = $ngx->http_request('GET', compact($w2, 'svg'));
    my $svg2 = $ngx->http_request('GET', compact($w2, 'svg'));
    is($svg2->{headers}{'x-bubble-cache'}, 'HIT', 'SVG: HIT');
    is($svg2->{headers}{'content-type'}, 'image/svg+xml', 'as SVG');
    ok($svg1->{body} eq $svg2->{body}, 'SVG: the same bytes');

    my $holes = { %$w2, data => { %{ $w2->{data} } } };
    my @y = @{ $holes->{data}{y} };
    $y[0] = undef;
    $y[1] = undef;
    $holes->{data}{y} = \@y;
    my $d1 = $ngx->http_request('GET', compact($holes));
    my $d2 = $ngx->http_request('GET', compact($holes));
    is($d1->{headers}{'x-bubble-dropped-rows'}, 2, 'a miss drops 2 rows');
    is($d2->{headers}{'x-bubble-cache'}, 'HIT', 'HIT');
    is($d2->{headers}{'x-bubble-dropped-rows'}, 2,
       'and says the same X-Bubble-Dropped-Rows');
}

# a render in a thread pool is stored as one on the event loop
{
    my $u = compact(w2_titled('threaded'), 'png', '/threaded');
    my $t1 = $ngx->http_request('GET', $u);
    my $t2 = $ngx->http_request('GET', $u);
    is($t1->{headers}{'x-bubble-cache'}, 'MISS', 'thread pool: MISS');
    is($t2->{headers}{'x-bubble-cache'}, 'HIT', 'thread pool: then HIT');
    ok(png_info($t2->{body})->{valid} && $t2->{body} eq $t1->{body},
       'thread pool: the same valid PNG');
}

# bubble_cache off: BYPASS, rendered each time; no header unless asked
{
    my $r0 = status($ngx)->{renders};
    my $u = compact($w2, 'png', '/nocache');
    for my $i (1 .. 2) {
        my $r = $ngx->http_request('GET', $u);
        is($r->{headers}{'x-bubble-cache'}, 'BYPASS', "cache off: BYPASS $i");
    }
    is(status($ngx)->{renders}, $r0 + 2, 'rendered twice');

    my $q = $ngx->http_request('GET', compact($w2, 'png', '/quiet'));
    is($q->{status}, 200, 'bubble_cache_header off: 200');
    ok(!defined $q->{headers}{'x-bubble-cache'}, 'and no X-Bubble-Cache');
}

# errors are never stored
{
    my $st = status($ngx);
    my @bad = (
        ['/chart/AAAAAAAAAAAAAAAA.png', 400, 'not deflate'],
        [compact({ width => 320, height => 240, data => 'x' }), 400,
         'a bad spec'],
        [compact({ %$w2, width => 20000, height => 20000 }), 413,
         'over bubble_max_pixels'],
    );
    for my $b (@bad) {
        for my $i (1 .. 2) {
            my $r = $ngx->http_request('GET', $b->[0]);
            is($r->{status}, $b->[1], "$b->[2]: $b->[1] ($i)");
            # a client's error is no miss of a chart: no X-Bubble-Cache
            ok(!defined $r->{headers}{'x-bubble-cache'},
               "$b->[2]: no X-Bubble-Cache ($i)");
            is($r->{headers}{'cache-control'}, 'no-store',
               "$b->[2]: no-store ($i)");
        }
    }
    my $after = status($ngx);
    is($after->{cache}{entries}, $st->{cache}{entries},
       'no entry for an error');
    is($after->{cache}{stores}, $st->{cache}{stores}, 'nothing stored');
    is($after->{cache}{misses}, $st->{cache}{misses},
       'client errors are not counted as misses');
}

# signed URLs: a hit needs the signature that was checked
{
    my $good = compact($w2, 'png', '/signed');
    # sign as tools/bubble-url does: HMAC-SHA256 over "png:" JSON
    require Digest::SHA;
    my $mac = Digest::SHA::hmac_sha256('png:' . json_encode($w2), $secret);
    my $sig = substr(MIME::Base64::encode_base64url($mac), 0, 22);

    my $a = $ngx->http_request('GET', "$good?sig=$sig");
    is($a->{status}, 200, 'signed: 200');
    my $b = $ngx->http_request('GET', "$good?sig=$sig");
    is($b->{headers}{'x-bubble-cache'}, 'HIT', 'signed, again: HIT');

    (my $bad = $sig) =~ s/^(.)/$1 eq 'A' ? 'B' : 'A'/e;
    my $t = $ngx->http_request('GET', "$good?sig=$bad");
    json_error_ok($t, 403, 'forbidden', 'a tampered sig of a cached chart');
    my $u = $ngx->http_request('GET', $good);
    json_error_ok($u, 403, 'forbidden', 'no sig for a cached chart');
}

# --- nginx -s reload keeps the entries ------------------------------------

{
    my $before = status($ngx);
    my @old = $ngx->worker_pids;
    my ($rc, $out) = BubbleTest::_run_nginx($ngx->dir, '-s', 'reload');
    is($rc, 0, 'nginx -s reload') or diag($out);
    ok(wait_for(10, sub {
           my @w = $ngx->worker_pids;
           @w == 2 && !grep { my $o = $_; grep { $_ == $o } @w } @old
       }), 'reload: new workers');

    my $r = $ngx->http_request('GET', $url);
    is($r->{headers}{'x-bubble-cache'}, 'HIT', 'after the reload: HIT');
    ok($r->{body} eq $miss->{body}, 'the same bytes');
    my $after = status($ngx);
    is($after->{renders}, $before->{renders}, 'nothing rendered');
    is($after->{cache}{entries}, $before->{cache}{entries},
       'every entry kept');
    ok($after->{cache}{hits} > $before->{cache}{hits},
       'the counters carried on');
}

# --- $bubble_cache_status in the access log --------------------------------

{
    my $log = '';
    wait_for(5, sub {
        $log = -f $ngx->dir . '/cache.log'
            ? BubbleTest::read_file($ngx->dir . '/cache.log') : '';
        $log =~ /HEAD \S+ 200 HIT/;
    });
    my @lines = split /\n/, $log;
    my $w1_uri = (split /\?/, $url)[0];
    my @w1 = grep { index($_, " $w1_uri ") >= 0 } @lines;
    like($w1[0] // '', qr/^GET \S+ 200 MISS$/, 'log: the first W1 GET, MISS');
    ok((grep { /^GET \S+ 200 HIT$/ } @w1) >= 3, 'log: the W1 hits');
    ok((grep { /^GET \S+ 304 HIT$/ } @w1) == 1, 'log: the 304, HIT');
    ok((grep { m{^GET /nocache/\S+ 200 BYPASS$} } @lines) == 2,
       'log: BYPASS');
    ok((grep { m{^POST /chart.png 200 (MISS|HIT)$} } @lines) == 2,
       'log: the POSTs');
    ok((grep { m{^GET /status 200 -$} } @lines) >= 1,
       'log: "-" where no chart was asked for');
}

ok(!$ngx->error_log_crashes, 'no worker crashed');
$ngx->stop;

# --- eviction in a small zone: every answer is a fresh render's ------------

{
    my $small = start_nginx(
        http_conf => q{
            bubble_zone bubble:1m;
            bubble_cache_zone small:128k;
        },
        server_conf => q{
            location /chart { bubble; bubble_cache_header on; }
            location /fresh { bubble; bubble_cache off; }
            location = /status { bubble_status; }
        });

    my %fresh;
    for my $n (1 .. 10) {
        $fresh{$n} = $small->http_request('GET',
            compact(w2_titled($n), 'png', '/fresh'))->{body};
    }

    my (%seen, $bad);
    for my $round (1 .. 3) {
        for my $n (1 .. 10, 1, 1, 2) {
            my $r = $small->http_request('GET', compact(w2_titled($n)));
            $seen{ $r->{headers}{'x-bubble-cache'} // 'none' }++;
            $bad++ unless $r->{status} == 200
                && defined $r->{body} && $r->{body} eq $fresh{$n};
        }
    }
    ok(!$bad, '39 answers in a full zone: each the bytes of a fresh render');
    ok($seen{HIT} && $seen{MISS}, "hits and misses: "
       . join(', ', map { "$_ $seen{$_}" } sort keys %seen));

    my $st = status($small);
    ok($st->{cache}{evictions} > 0,
       "evictions: $st->{cache}{evictions}");
    ok($st->{cache}{entries} >= 2 && $st->{cache}{entries} < 10,
       "the zone holds a few: $st->{cache}{entries} entries, "
       . "$st->{cache}{bytes} bytes");
    ok($st->{cache}{bytes} <= 128 * 1024, 'within the zone');

    # least recently used goes first: 1 was just asked for, 3 long ago
    my $r1 = $small->http_request('GET', compact(w2_titled(2)));
    is($r1->{headers}{'x-bubble-cache'}, 'HIT',
       'the most recently used entry is kept');

    # an image over max_entry (32k here) is served, never stored
    my $big = compact($w1);
    my $b1 = $small->http_request('GET', $big);
    my $b2 = $small->http_request('GET', $big);
    is($b1->{status}, 200, 'W1 (117 KB) over max_entry: 200');
    is($b2->{headers}{'x-bubble-cache'}, 'MISS', 'and a MISS again');
    ok(status($small)->{cache}{too_large} >= 2, 'counted as too_large');

    ok(!$small->error_log_crashes, 'no worker crashed');
    $small->stop;
}

# --- an entry evicted while a slow client reads it -------------------------
#
# Hits are sent from the zone itself, pinned: evicting the entry meanwhile
# takes it out of the tree, and its bytes stay until the send is over.

{
    my $port2 = BubbleTest::_free_port();
    my $slow = start_nginx(
        http_conf => qq{
            bubble_zone bubble:1m;
            bubble_cache_zone pinned:512k max_entry=128k;
            # zlib: W1 is 94 KB (141 KB with the fast encoder), under max_entry
            bubble_png_compression small;
            server {
                listen 127.0.0.1:$port2 sndbuf=4096;
                location /chart { bubble; bubble_cache_header on; }
            }
        },
        server_conf => q{
            location /chart { bubble; bubble_cache_header on; }
            location /fresh { bubble; bubble_cache off; }
            location = /status { bubble_status; }
        });

    my $big = compact($w1);
    my $fresh = $slow->http_request('GET', compact($w1, 'png', '/fresh'));
    is($slow->http_request('GET', $big)->{headers}{'x-bubble-cache'},
       'MISS', 'W1 stored');

    # a client that reads a few bytes and stalls, the rest stuck in nginx
    my $s = IO::Socket::INET->new(Proto => 'tcp');
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096);
    connect($s, Socket::pack_sockaddr_in($port2,
                                         Socket::inet_aton('127.0.0.1')))
        or die "connect: $!";
    binmode $s;
    syswrite($s, "GET $big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    my $got = '';
    sysread($s, $got, 1024);
    like($got, qr/X-Bubble-Cache: HIT/, 'the slow client gets a HIT');

    # fill the zone over: W1 is the least recently used, and goes
    my $ev0 = status($slow)->{cache}{evictions};
    for my $n (1 .. 40) {
        $slow->http_request('GET', compact(w2_titled("evict $n")));
    }
    my $st = status($slow);
    ok($st->{cache}{evictions} > $ev0 + 5,
       "evictions while it stalls: " . ($st->{cache}{evictions} - $ev0));
    my $again = $slow->http_request('GET', $big);
    is($again->{headers}{'x-bubble-cache'}, 'MISS',
       'W1 is out of the tree: MISS for others');

    # the stalled answer completes with the right bytes
    my $sel = IO::Select->new($s);
    while ($sel->can_read(10)) {
        my $n = sysread($s, $got, 65536, length $got);
        last unless $n;
    }
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $got, 2;
    is(length($body // ''), length($fresh->{body}),
       'the stalled answer is complete');
    ok(defined $body && $body eq $fresh->{body},
       'and byte for byte a fresh render, though evicted meanwhile');

    # the pinned memory came back: the zone still takes new entries
    for my $n (41 .. 60) {
        $slow->http_request('GET', compact(w2_titled("evict $n")));
    }
    ok(status($slow)->{cache}{no_room} == 0, 'never out of room');
    ok(!$slow->error_log_crashes, 'no worker crashed');
    $slow->stop;
}

# --- degraded and refused answers are never stored; valid= expires ---------

{
    my $tight = start_nginx(
        http_conf => q{
            bubble_zone bubble:1m;
            bubble_memory_limit 9m;
            bubble_cache_zone charts:1m valid=1s;
        },
        server_conf => q{
            location /chart {
                bubble;
                bubble_degrade on;
                bubble_cache_header on;
            }
            location = /status { bubble_status; }
        });

    is(status($tight)->{budget}, 8 * 1024 * 1024,
       'budget: bubble_memory_limit 9m - the 1m cache zone');

    my $hi = compact({ %$w2, width => 800, height => 600, scale => 2 });
    for my $i (1 .. 2) {
        my $r = $tight->http_request('GET', $hi);
        is($r->{status}, 200, "scale 2 over the budget: 200 ($i)");
        is($r->{headers}{'x-bubble-degraded'}, 'scale=1',
           "degraded ($i)");
        is($r->{headers}{'x-bubble-cache'}, 'MISS',
           "degraded: MISS, not stored ($i)");
    }

    my $huge = compact({ %$w2, width => 4096, height => 4096 });
    for my $i (1 .. 2) {
        my $r = $tight->http_request('GET', $huge);
        is($r->{status}, 413, "over the whole budget: 413 ($i)");
        ok(!defined $r->{headers}{'x-bubble-cache'},
           "a 413 is no cache miss: no X-Bubble-Cache ($i)");
    }
    is(status($tight)->{cache}{entries}, 0, 'nothing stored');

    my $u = compact($w2);
    is($tight->http_request('GET', $u)->{headers}{'x-bubble-cache'},
       'MISS', 'valid=1s: MISS');
    is($tight->http_request('GET', $u)->{headers}{'x-bubble-cache'},
       'HIT', 'HIT');
    sleep 2.1;
    my $r0 = status($tight)->{renders};
    my $e = $tight->http_request('GET', $u);
    is($e->{headers}{'x-bubble-cache'}, 'EXPIRED', 'after 2 s: EXPIRED');
    is($e->{status}, 200, 'rendered anew: 200');
    is(status($tight)->{renders}, $r0 + 1, 'one render');
    is($tight->http_request('GET', $u)->{headers}{'x-bubble-cache'},
       'HIT', 'and stored again: HIT');
    is(status($tight)->{cache}{expired}, 1, 'status: 1 expired');

    ok(!$tight->error_log_crashes, 'no worker crashed');
    $tight->stop;
}

# --- a cache without bubble_zone --------------------------------------------

{
    my $plain = start_nginx(
        http_conf => 'bubble_cache_zone charts:1m;',
        server_conf => 'location /chart { bubble; bubble_cache_header on; }');
    my $u = compact($w2);
    my $m = $plain->http_request('GET', $u);
    my $h = $plain->http_request('GET', $u);
    is($m->{headers}{'x-bubble-cache'}, 'MISS', 'no bubble_zone: MISS');
    is($h->{headers}{'x-bubble-cache'}, 'HIT', 'then HIT');
    ok($h->{body} eq $m->{body}, 'the same bytes');
    $plain->stop;
}

# --- auto budget: the ceiling less the cache zone --------------------------

{
    my $auto = start_nginx(
        http_conf => q{
            bubble_zone bubble:1m;
            bubble_cache_zone charts:16m;
        },
        server_conf => 'location = /status { bubble_status; }');
    my $st = status($auto);
    is($st->{memory_limit}, 'auto', 'auto');
    is($st->{ceiling} - $st->{budget}, 16 * 1024 * 1024,
       'auto: budget = ceiling - 16m of cache');
    $auto->stop;
}

done_testing();
