#!/usr/bin/perl
# Work for no one is not done (issue 16): 24 clients POST a heavy chart
# (20000 rows on 3000 x 3000) and close their connections.
#
#   - waiting in the admission queue (a budget one of them fits): every
#     waiting render is dropped at once, its place and memory given back;
#     a small chart sent right after is answered in under 1 s; only the
#     render already running runs on, and the zone's reservations are
#     back to 0 within 1 s of its end;
#   - waiting in a thread pool's queue (memory for all, one thread per
#     worker): the tasks no thread has started are cancelled, their
#     reservations released at once; only the running ones render;
#   - a running render whose client left runs to its end: a complete
#     image is still stored in the response cache (a GET of the same URL
#     is then a HIT), and its reservation is released as it ends.
#
# The tests wait for what they expect to see (counters, reservations),
# never a fixed time before asserting that something did not happen.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use BubbleTest;

require_module();

my $w2 = bench_spec('w2');

srand(16);
my $rows = 20000;
my %heavy = (
    width => 3000, height => 3000, title => 'abandoned',
    data => {
        x    => [map { int(rand(10000)) / 10000 } 1 .. $rows],
        y    => [map { int(rand(10000)) / 10000 } 1 .. $rows],
        size => [map { int(rand(1000)) / 1000 } 1 .. $rows],
    },
);
my $heavy = json_encode(\%heavy);

sub status {
    my ($ngx) = @_;
    my $r = $ngx->http_request('GET', '/status?format=json', timeout => 10);
    return json_decode($r->{body}) // {};
}

# renders that returned, of any format and outcome
sub renders_done {
    my ($st) = @_;
    my $n = 0;
    for my $f (values %{ $st->{renders_total} || {} }) {
        $n += ($f->{ok} // 0) + ($f->{error} // 0);
    }
    return $n;
}

sub send_heavy {
    my ($ngx) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ngx->port, Proto => 'tcp')
        or die "connect: $!";
    binmode $s;
    local $SIG{PIPE} = 'IGNORE';
    BubbleTest::_send_all($s, "POST /chart.png HTTP/1.1\r\nHost: x\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($heavy) . "\r\n\r\n" . $heavy);
    return $s;
}

# Watches the zone after the clients left: the time renders last returned,
# and the time reservations were first back at 0 after that.
sub watch_until_idle {
    my ($ngx, $secs) = @_;
    my $st = status($ngx);
    my ($done, $t_done, $t_zero) = (renders_done($st), time, undef);
    my $deadline = time + $secs;
    while (time < $deadline) {
        $st = status($ngx);
        my $n = renders_done($st);
        if ($n != $done) {
            ($done, $t_done, $t_zero) = ($n, time, undef);
        }
        if (($st->{reserved} // -1) == 0 && ($st->{in_flight} // -1) == 0) {
            $t_zero //= time;
            last if time - $t_done > 1.5;     # nothing renders any more
        } else {
            $t_zero = undef;
        }
        sleep 0.02;
    }
    return ($st, $t_done, $t_zero);
}

my $n = 24;

# --- abandoned while waiting in the admission queue --------------------------

{
    my $ngx = start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=2;',
        http_conf => 'bubble_zone bubble:1m; bubble_memory_limit 100m; '
                   . 'bubble_queue 64; bubble_queue_timeout 30s;',
        server_conf => q{
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_body_size 2m;
            }
            location = /status { bubble_status; }
        });

    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'queue: a slot per worker');
    my $st0 = status($ngx);

    my @socks = map { send_heavy($ngx) } 1 .. $n;

    # every request is in: one renders (one fits 100m), the rest wait
    my $st = {};
    ok(wait_for(20, sub {
           $st = status($ngx);
           ($st->{in_flight} // 0) >= 1
               && ($st->{in_flight} // 0) + ($st->{queue}{waiting} // 0)
                  == $n;
       }), "queue: $n heavy charts in: "
           . ($st->{in_flight} // '?') . ' admitted, '
           . ($st->{queue}{waiting} // '?') . ' waiting')
        or diag(json_encode($st));
    my $running = $st->{in_flight};
    my $waiting = $st->{queue}{waiting};

    close $_ for @socks;
    my $t_close = time;

    # a small chart right after the clients left
    my $t = time;
    my $small = $ngx->post_chart('/chart.png', $w2, timeout => 10);
    my $latency = time - $t;
    is($small->{status}, 200, 'queue: a small chart right after: 200');
    cmp_ok($latency, '<', 1, sprintf('queue: answered in %.3f s (< 1 s)',
                                     $latency));

    # the waiting renders are dropped: their places given back
    ok(wait_for(2, sub {
           $st = status($ngx);
           ($st->{cancelled}{queue} // 0) - ($st0->{cancelled}{queue} // 0)
               >= $waiting
               && ($st->{queue}{waiting} // -1) == 0;
       }), sprintf('queue: %d waiting renders dropped (%.0f ms after '
                   . 'the close)', $waiting, 1000 * (time - $t_close)))
        or diag(json_encode($st));
    is($st->{queue}{gone} - ($st0->{queue}{gone} // 0), $waiting,
       'queue: counted as "gone"');

    my ($end, $t_done, $t_zero) = watch_until_idle($ngx, 30);
    ok(defined $t_zero, 'queue: nothing reserved in the end')
        or diag(json_encode($end));
    cmp_ok($t_zero - $t_done, '<', 1,
           sprintf('queue: reserved back to 0 %.0f ms after the last '
                   . 'render returned', 1000 * ($t_zero - $t_done)))
        if defined $t_zero;

    # the renders that ran: the one running at the close, and the small
    is(renders_done($end) - renders_done($st0), $running + 1,
       "queue: $running heavy render(s) and the small chart rendered, "
       . 'no more');
    is($end->{granted}, 0, 'queue: no grant left behind');

    my $log = $ngx->error_log_content;
    is_deeply([grep { /\[alert\]/ } split /\n/, $log], [], 'queue: no [alert]');
    is_deeply([error_log_crashes($ngx)], [], 'queue: no worker crashed');
}

# --- abandoned while waiting in a thread pool's queue -------------------------

{
    my $ngx = start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=1 max_queue=64;',
        http_conf => 'bubble_zone bubble:1m; bubble_memory_limit 4096m;',
        server_conf => q{
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_body_size 2m;
            }
            location = /status { bubble_status; }
        });

    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'threads: a slot per worker');
    my $st0 = status($ngx);

    my @socks = map { send_heavy($ngx) } 1 .. $n;

    my $st = {};
    ok(wait_for(20, sub {
           $st = status($ngx);
           ($st->{in_flight} // 0) == $n
               && ($st->{thread_queue_depth} // 0) >= $n - 2;
       }), "threads: $n heavy charts admitted, "
           . ($st->{thread_queue_depth} // '?') . ' in the threads\' queues')
        or diag(json_encode($st));
    my $queued = $st->{thread_queue_depth};
    my $per = $st->{reserved} / $n;

    close $_ for @socks;
    my $t_close = time;

    ok(wait_for(1, sub {
           $st = status($ngx);
           ($st->{cancelled}{thread_pool} // 0) == $queued
               && $st->{reserved} <= ($n - $queued) * $per + 1;
       }), sprintf('threads: %d queued tasks cancelled, their memory '
                   . 'released (%.0f ms after the close)', $queued,
                   1000 * (time - $t_close)))
        or diag(json_encode($st));

    my $t = time;
    my $small = $ngx->post_chart('/chart.svg', $w2, timeout => 30);
    is($small->{status}, 200, sprintf('threads: a small chart: 200 in '
                                      . '%.3f s', time - $t));

    my ($end, $t_done, $t_zero) = watch_until_idle($ngx, 60);
    ok(defined $t_zero, 'threads: nothing reserved in the end')
        or diag(json_encode($end));
    cmp_ok($t_zero - $t_done, '<', 1,
           sprintf('threads: reserved back to 0 %.0f ms after the last '
                   . 'render returned', 1000 * ($t_zero - $t_done)))
        if defined $t_zero;
    is(renders_done($end) - renders_done($st0), $n - $queued + 1,
       'threads: only the ' . ($n - $queued) . ' running renders and the '
       . 'small chart rendered');
    is($end->{thread_queue_depth}, 0, 'threads: the queues are empty');

    is_deeply([error_log_crashes($ngx)], [], 'threads: no worker crashed');
}

# --- a running render whose client left: a complete image is kept -------------

{
    my $ngx = start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=1;',
        http_conf => 'bubble_zone bubble:1m; '
                   . 'bubble_cache_zone charts:32m max_entry=16m;',
        server_conf => q{
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_cache_header on;
                bubble_max_body_size 2m;
            }
            location = /status { bubble_status; }
        });

    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'cache: a slot per worker');

    # POSTed charts are cached by their ETag
    my $st0 = status($ngx);
    my $s = send_heavy($ngx);

    my $st = {};
    ok(wait_for(10, sub {
           $st = status($ngx);
           ($st->{in_flight} // 0) == 1 && ($st->{reserved} // 0) > 0
               && ($st->{thread_queue_depth} // 1) == 0;
       }), 'cache: the render runs');
    close $s;

    ok(wait_for(30, sub {
           $st = status($ngx);
           renders_done($st) == renders_done($st0) + 1
               && $st->{reserved} == 0;
       }), 'cache: it ran to its end, and its memory was released');
    is($st->{cancelled}{thread_pool}, 0, 'cache: not cancelled: it ran');

    my $r = $ngx->post_chart('/chart.png', $heavy, timeout => 30);
    is($r->{status}, 200, 'cache: the same chart: 200');
    is($r->{headers}{'x-bubble-cache'}, 'HIT',
       'cache: a HIT: the abandoned render\'s complete image was kept');
    ok(png_info($r->{body})->{valid}, 'cache: a complete PNG');
    is(renders_done(status($ngx)), renders_done($st0) + 1,
       'cache: no second render');

    is_deeply([error_log_crashes($ngx)], [], 'cache: no worker crashed');
}

done_testing();
