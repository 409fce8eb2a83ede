#!/usr/bin/perl
# Memory governance (bubble_zone, bubble_memory_limit, bubble_degrade,
# bubble_status): a render whose estimate does not fit the budget gets 503
# + Retry-After + JSON while small charts pass; a scale-2 chart degrades to
# scale 1 where allowed; the zone's counters survive a reload; a worker
# killed mid-render leaves no reservation behind; bad values fail nginx -t.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use BubbleTest;

require_module();

my $w2 = json_decode(bench_spec('w2'));

# W2 on another canvas; scale 1 unless given
sub w2_at {
    my ($w, $h, $scale) = @_;
    return { %$w2, width => $w, height => $h, scale => $scale // 1 };
}

sub status {
    my ($ngx) = @_;
    my $r = $ngx->http_request('GET', '/status?format=json');
    return json_decode($r->{body}) // {};
}

my $status_location = 'location = /status { bubble_status; }';

# --- configuration ----------------------------------------------------------

sub conf_ok {
    my ($desc, %conf) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($ok, $out) = nginx_config_test(%conf);
    ok($ok, "nginx -t accepts: $desc") or diag($out);
}

sub conf_fails {
    my ($desc, $re, %conf) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($ok, $out) = nginx_config_test(%conf);
    ok(!$ok, "nginx -t rejects: $desc");
    like($out, $re, "$desc: message") or diag($out);
}

my $loc = 'location /chart { bubble; } ' . $status_location;

conf_ok('a zone, the default limit (auto 85%)',
        http_conf => 'bubble_zone bubble:1m;', server_conf => $loc);
conf_ok('auto 70%',
        http_conf => 'bubble_zone b:64k; bubble_memory_limit auto 70%;');
conf_ok('auto 100%',
        http_conf => 'bubble_zone b:1m; bubble_memory_limit auto 100%;');
conf_ok('a size',
        http_conf => 'bubble_zone b:1m; bubble_memory_limit 512m;');
conf_ok('off',
        http_conf => 'bubble_zone b:1m; bubble_memory_limit off;');
conf_ok('bubble_degrade on, at every level',
        http_conf => 'bubble_zone b:1m; bubble_degrade on;',
        server_conf => 'bubble_degrade off; location /chart { bubble; '
                     . 'bubble_degrade on; }');

my $z = 'bubble_zone bubble:1m; ';

conf_fails('auto 0%', qr/invalid percentage "0%"/,
           http_conf => $z . 'bubble_memory_limit auto 0%;');
conf_fails('auto 150%', qr/invalid percentage "150%"/,
           http_conf => $z . 'bubble_memory_limit auto 150%;');
conf_fails('auto 85 (no %)', qr/invalid percentage "85"/,
           http_conf => $z . 'bubble_memory_limit auto 85;');
conf_fails('auto x%', qr/invalid percentage "x%"/,
           http_conf => $z . 'bubble_memory_limit auto x%;');
conf_fails('a bad size', qr/invalid value "lots"/,
           http_conf => $z . 'bubble_memory_limit lots;');
conf_fails('size 0', qr/invalid value "0"/,
           http_conf => $z . 'bubble_memory_limit 0;');
conf_fails('a size with a percentage', qr/invalid parameter "50%"/,
           http_conf => $z . 'bubble_memory_limit 64m 50%;');
conf_fails('bubble_memory_limit twice', qr/is duplicate/,
           http_conf => $z . 'bubble_memory_limit 64m; '
                      . 'bubble_memory_limit off;');
conf_fails('bubble_memory_limit without a zone',
           qr/"bubble_memory_limit" requires "bubble_zone"/,
           http_conf => 'bubble_memory_limit 64m;');
conf_fails('bubble_status without a zone',
           qr/"bubble_status" requires "bubble_zone"/,
           server_conf => $status_location);
conf_fails('a zone without a size', qr/invalid zone "bubble"/,
           http_conf => 'bubble_zone bubble;');
conf_fails('a zone without a name', qr/invalid zone ":1m"/,
           http_conf => 'bubble_zone :1m;');
conf_fails('a bad zone size', qr/invalid zone size "bubble:big"/,
           http_conf => 'bubble_zone bubble:big;');
conf_fails('a tiny zone', qr/zone "bubble:1k" is too small/,
           http_conf => 'bubble_zone bubble:1k;');
conf_fails('two zones', qr/is duplicate/,
           http_conf => 'bubble_zone a:1m; bubble_zone b:1m;');
conf_fails('bubble_zone in a server',
           qr/"bubble_zone" directive is not allowed here/,
           server_conf => 'bubble_zone bubble:1m;');
conf_fails('bubble_degrade maybe', qr/bubble_degrade/,
           http_conf => $z . 'bubble_degrade maybe;');

# --- a small budget: big charts refused, small ones served ------------------

{
    my $ngx = start_nginx(
        workers => 2,
        http_conf => 'bubble_zone bubble:1m; bubble_memory_limit 8m;',
        server_conf => q{
            location /chart { bubble; }
            location /degrade { bubble; bubble_degrade on; }
        } . $status_location);

    # a worker claims its slot in init_process, maybe after it accepts
    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'status: a slot per worker');

    my $st = status($ngx);
    is($st->{memory_limit}, 'size', 'status: memory_limit "size"');
    is($st->{budget}, 8 * 1024 * 1024, 'status: budget 8m');
    is($st->{reserved}, 0, 'status: nothing reserved at start');
    ok($st->{cgroup}{limit} > 0 && defined $st->{cgroup}{age_ms},
       'status: a cgroup sample') or diag(json_encode($st));

    my $big = $ngx->post_chart('/chart.png', w2_at(4096, 4096));
    # never fits: 413, not a 503 to retry for ever
    my $j = json_error_ok($big, 413, 'too_large', '4096x4096 over 8m');
    is($j->{path}, 'width', 'it names the image');
    ok(!defined $big->{headers}{'retry-after'}, '413 has no Retry-After');
    is($big->{headers}{'cache-control'}, 'no-store', '413 is not cached');
    like($j->{message} // '', qr/whole 8\.0 MiB budget/,
         'the message names the budget');

    for my $i (1 .. 3) {
        my $small = $ngx->post_chart('/chart.png', $w2);
        is($small->{status}, 200, "W2 within 8m: 200 ($i)");
        ok(png_info($small->{body})->{valid}, "W2: a valid PNG ($i)");
    }

    my $svg = $ngx->post_chart('/chart.svg', w2_at(4096, 4096));
    is($svg->{status}, 200, 'the same 4096x4096 chart as SVG fits: 200');

    # degrade: 800x600 at scale 2 does not fit 8m, at scale 1 it does
    my $hi = w2_at(800, 600, 2);

    my $no = $ngx->post_chart('/chart.png', $hi);
    json_error_ok($no, 413, 'too_large', 'scale 2 over 8m without degrade');

    my $d = $ngx->post_chart('/degrade.png', $hi);
    is($d->{status}, 200, 'bubble_degrade on: 200');
    is($d->{headers}{'x-bubble-degraded'}, 'scale=1',
       'X-Bubble-Degraded: scale=1');
    my $info = png_info($d->{body});
    ok($info->{valid} && $info->{width} == 800 && $info->{height} == 600,
       'the degraded PNG is 800x600, not 1600x1200')
        or diag(json_encode($info));
    ok(!defined $d->{headers}{etag}, 'a degraded image has no ETag');
    is($d->{headers}{'cache-control'}, 'no-store',
       'a degraded image is not cached');

    my $fits = $ngx->post_chart('/degrade.png', w2_at(320, 240, 2));
    is($fits->{status}, 200, 'a scale-2 chart that fits: 200');
    ok(!defined $fits->{headers}{'x-bubble-degraded'}, 'and not degraded');
    is(png_info($fits->{body})->{width}, 640, 'at its full 640 px');

    my $never = $ngx->post_chart('/degrade.png', w2_at(4096, 4096, 1));
    json_error_ok($never, 413, 'too_large',
                  'degrade cannot help a scale-1 chart');

    # released as each request is freed, which may follow its response by
    # the lingering close (a few ms)
    wait_for(5, sub { $st = status($ngx); ($st->{reserved} // -1) == 0 });
    is($st->{reserved}, 0, 'status: nothing reserved once answered');
    is($st->{renders}, 6, 'status: 6 renders admitted');
    is($st->{refused}{too_large}, 3, 'status: 3 refused as too large');
    is($st->{refused}{budget}, 0, 'status: none refused for memory held');
    is($st->{degraded}, 1, 'status: 1 degraded');
    ok($st->{peak} > 0 && $st->{peak} <= 8 * 1024 * 1024,
       "status: peak $st->{peak} within the budget");

    # --- the counters survive a reload ---

    my @old = $ngx->worker_pids;
    kill 'HUP', $ngx->master_pid;
    ok(wait_for(10, sub {
           my @w = $ngx->worker_pids;
           @w == 2 && !grep { my $o = $_; grep { $_ == $o } @w } @old
       }), 'reload: new workers');

    my $after = status($ngx);
    is($after->{renders}, 6, 'after a reload: renders still 6');
    is($after->{refused}{too_large}, 3, 'after a reload: refusals still 3');
    is($after->{peak}, $st->{peak}, 'after a reload: the same peak');
    ok(wait_for(5, sub { @{ status($ngx)->{workers} } == 2 }),
       'after a reload: the old workers gave their slots back');

    my $again = $ngx->post_chart('/chart.png', $w2);
    is($again->{status}, 200, 'after a reload: W2 renders');
    is(status($ngx)->{renders}, 7, 'and counts on');

    my $post = $ngx->http_request('POST', '/status', body => '{}');
    is($post->{status}, 405, 'status: POST is 405');

    my $log = $ngx->error_log_content;
    unlike($log, qr/warm-up render failed/, 'the warm-up render works');
    like($log, qr/bubble: memory limit \d+ bytes/,
         'the budget is logged at start');

    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# --- bubble_memory_limit off: nothing is refused -----------------------------

{
    my $ngx = start_nginx(
        http_conf => 'bubble_zone bubble:1m; bubble_memory_limit off;',
        server_conf => $loc);

    my $big = $ngx->post_chart('/chart.png', w2_at(4096, 4096));
    is($big->{status}, 200, 'off: a 4096x4096 chart renders');
    my $st = status($ngx);
    is($st->{memory_limit}, 'off', 'status: memory_limit "off"');
    ok($st->{peak} > 64 * 1024 * 1024,
       "off: still accounted (peak $st->{peak} bytes)");
    is($st->{reserved}, 0, 'off: released');
}

# --- a worker killed mid-render leaves nothing reserved ----------------------
#
# Two workers rendering in a thread pool (so the other worker's event loop
# answers /status); a slow 4096x4096 chart of 30000 bubbles (~1 s); the
# worker holding its reservation is killed with SIGKILL.

{
    my $ngx = start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=1;',
        http_conf => 'bubble_zone bubble:1m; bubble_memory_limit auto;',
        server_conf => q{
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_body_size 2m;
            }
        } . $status_location);

    my $slow = slow_spec(7);

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ngx->port, Proto => 'tcp')
        or die "connect: $!";
    print $s "POST /chart.png HTTP/1.0\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($slow) . "\r\n\r\n" . $slow;

    my $holder;
    ok(wait_for(10, sub {
           my $st = status($ngx);
           ($holder) = grep { $_->{reserved} > 0 } @{ $st->{workers} || [] };
           return defined $holder;
       }), 'the slow render holds a reservation');

    SKIP: {
        skip 'no reservation seen', 4 unless $holder;

        my $st = status($ngx);
        ok($st->{reserved} > 64 * 1024 * 1024,
           "reserved while rendering: $st->{reserved} bytes");

        kill 'KILL', $holder->{pid};
        my $t0 = time;

        my $freed = wait_for(1, sub { status($ngx)->{reserved} == 0 });
        my $t = time - $t0;
        ok($freed, sprintf('after kill -9 of worker %d: reserved 0 '
                           . 'within 1 s (%.0f ms)', $holder->{pid},
                           1000 * $t))
            or diag(json_encode(status($ngx)));

        $st = status($ngx);
        ok($st->{reclaimed}{slots} >= 1, 'status: the dead slot reclaimed');
        ok(!grep({ $_->{pid} == $holder->{pid} } @{ $st->{workers} }),
           'status: the dead worker is gone from the slots');
    }

    close $s;

    ok(wait_for(10, sub { my @w = $ngx->worker_pids; @w == 2 }),
       'the master replaced the worker');
    my $r = $ngx->post_chart('/chart.png', $w2);
    is($r->{status}, 200, 'and charts render again');
}

done_testing();
