#!/usr/bin/perl
# Faults the module claims to survive (issues 4 and 8):
#
#   - a client that aborts mid-render (closes its connection while a heavy
#     chart renders, in a thread pool or inline) leaves nothing reserved in
#     bubble_zone, crashes no worker, and the next request renders; one
#     that aborts before its body is complete reserves nothing at all;
#   - `nginx -s reload` (SIGHUP to the master) twice under load from four
#     clients fails no request (every answer a complete 200: no connection
#     error, timeout or 5xx), and the zone's counters count on across the
#     reloads: renders after = renders before + the 200s, nothing reserved.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes qw(sleep time);
use BubbleTest;

require_module();

my $w1 = bench_spec('w1');
my $w2 = bench_spec('w2');

# heavy: over half a second of drawing (BubbleTest)
my $w3 = heavy_spec();

my $zone = 'bubble_zone bubble:1m; bubble_memory_limit 512m;';
my $status_location = 'location = /status { bubble_status; }';

# the zone's JSON; {} when no answer came (a worker busy rendering inline
# may hold the status request until its render ends)
sub status {
    my ($ngx) = @_;
    my $r = $ngx->http_request('GET', '/status?format=json', timeout => 5);
    return json_decode($r->{body}) // {};
}

# renders counted as each render returns: {png,svg,pdf}.ok
sub renders_ok {
    my ($st) = @_;
    my $t = $st->{renders_total} || {};
    my $n = 0;
    $n += $t->{$_}{ok} // 0 for keys %$t;
    return $n;
}

sub post_head {
    my ($uri, $len) = @_;
    return "POST $uri HTTP/1.0\r\nHost: localhost\r\n"
         . "Content-Type: application/json\r\n"
         . "Content-Length: $len\r\n\r\n";
}

# the harness's writer, with SIGPIPE ignored: the tests close on purpose
sub send_all {
    my ($s, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    return BubbleTest::_send_all($s, $data);
}

sub connect_raw {
    my ($ngx) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ngx->port, Proto => 'tcp')
        or die "connect: $!";
    binmode $s;
    return $s;
}

# --- a client aborts mid-render ---------------------------------------------
#
# Two workers (one answers /status while the other renders), one render
# thread each.  The heavy chart is sent whole; once the zone shows its
# reservation the client closes the connection.  The worker only learns of
# it when it sends the result (nginx does not watch a request's connection
# while it is blocked on a thread task, or while an inline render holds the
# event loop), so the release comes after the render: within 5 s.

{
    my $ngx = start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=1;',
        http_conf => $zone,
        server_conf => q{
            location /chart {
                bubble;
                bubble_thread_pool bubble;
            }
            location /inline {
                bubble;
                bubble_thread_pool off;
            }
        } . $status_location);

    # a worker claims its slot in init_process, maybe after it accepts
    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'status: a slot per worker');

    my @pids = $ngx->worker_pids;
    is(scalar(@pids), 2, 'two workers');

    for my $case (['/chart.png', 'thread pool'], ['/inline.png', 'inline']) {
        my ($uri, $how) = @$case;
        my $before = status($ngx);
        is($before->{reserved}, 0, "$how: nothing reserved before");

        my $s = connect_raw($ngx);
        ok(send_all($s, post_head($uri, length $w3) . $w3),
           "$how: the heavy chart is sent");

        my $seen;
        ok(wait_for(10, sub {
               my $st = status($ngx);
               $seen = $st if ($st->{in_flight} // 0) == 1
                           && ($st->{reserved} // 0) > 0;
               return $seen;
           }), "$how: the zone shows the render's reservation")
            or diag(json_encode(status($ngx)));

        # the abort: close the connection, unread
        close $s;
        my $t0 = time;

        my $last = {};
        my $freed = wait_for(5, sub {
            $last = status($ngx);
            return defined $last->{reserved} && $last->{reserved} == 0
                && defined $last->{in_flight} && $last->{in_flight} == 0;
        });
        ok($freed, sprintf('%s: after the abort reserved 0 and in_flight 0 '
                           . 'within 5 s (%.0f ms)', $how,
                           1000 * (time - $t0)))
            or diag(json_encode($last));
        is_deeply([ map { $_->{reserved} } @{ $last->{workers} || [] } ],
                  [0, 0], "$how: no worker's slot holds a reservation");
        is($last->{renders}, ($before->{renders} // 0) + 1,
           "$how: the aborted render was admitted once");

        is_deeply([$ngx->worker_pids], \@pids,
                  "$how: the same workers (none crashed)");

        my $r = $ngx->post_chart($uri, $w2);
        is($r->{status}, 200, "$how: the next request renders: 200");
        ok(png_info($r->{body})->{valid}, "$how: a valid PNG");
        # released as the request is freed; with a body nginx closes the
        # connection lingering (shuts down writing, waits for the client's
        # close), so the client can see the whole response ~1 ms before
        my $st = {};
        ok(wait_for(2, sub {
               $st = status($ngx);
               return defined $st->{reserved} && $st->{reserved} == 0;
           }), "$how: and releases its reservation")
            or diag(json_encode($st));
    }

    # --- an abort before the body is complete: nothing is ever reserved ---

    {
        my $before = status($ngx);
        my $s = connect_raw($ngx);
        my $half = substr($w3, 0, int(length($w3) / 2));
        ok(send_all($s, post_head('/chart.png', length $w3) . $half),
           'half a body: sent');

        # nginx reads what came (the rest of the body is awaited); once its
        # socket's receive queue is empty it has read the half and waits,
        # and the zone holds nothing for this request
        ok(wait_for(5, sub { server_rx_queue($ngx->{port}, $s) == 0 }),
           'half a body: nginx has read what was sent');
        my $mid = status($ngx);
        is($mid->{in_flight}, 0, 'half a body: no render in flight');
        is($mid->{reserved}, 0, 'half a body: nothing reserved');

        close $s;

        # the worker notices the close at once (it is reading the body)
        ok(wait_for(5, sub {
               $ngx->error_log_content =~
                   /client prematurely closed connection/
           }), 'half a body: nginx saw the client go')
            or diag($ngx->error_log_content);

        my $after = status($ngx);
        is($after->{reserved}, 0, 'half a body: reserved 0 after the abort');
        is($after->{in_flight}, 0, 'half a body: in_flight 0 after the abort');
        is($after->{renders}, $before->{renders},
           'half a body: no render admitted');
        is_deeply([$ngx->worker_pids], \@pids,
                  'half a body: the same workers');

        my $r = $ngx->post_chart('/chart.svg', $w2);
        is($r->{status}, 200, 'half a body: the next request renders: 200');
    }

    is_deeply([error_log_crashes($ngx)], [], 'aborts: no worker crashed');
}

# --- reload under load --------------------------------------------------------
#
# Four client processes POST charts for 6 s, each on a new connection, and
# write one line per request: the time it ended, the kind, the status (or
# what went wrong).  Meanwhile the master is sent SIGHUP twice, 2 s apart,
# each time waiting for the new workers.

{
    my $ngx = start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=2;',
        http_conf => $zone,
        server_conf => q{
            location /chart {
                bubble;
                bubble_thread_pool bubble;
            }
        } . $status_location);

    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'reload: a slot per worker');

    my $before = status($ngx);
    is($before->{reserved}, 0, 'reload: nothing reserved before');

    my @kinds = (['w2 png', '/chart.png', $w2],
                 ['w2 svg', '/chart.svg', $w2],
                 ['w1 png', '/chart.png', $w1]);

    my $dir = $ngx->dir;
    my $load_secs = 6;
    my $t_start = time;
    my $t_end = $t_start + $load_secs;
    my @children;

    for my $c (1 .. 4) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            # a child: no Test::More, no END blocks (they would stop nginx)
            open my $out, '>', "$dir/client-$c.log" or POSIX::_exit(2);
            $out->autoflush(1);
            my $i = $c;
            while (time < $t_end) {
                my ($kind, $uri, $body) = @{ $kinds[$i++ % @kinds] };
                my $r = eval {
                    BubbleTest::post_chart($uri, $body, port => $ngx->port,
                                           timeout => 10);
                };
                my $what;
                if (!$r) {
                    ($what = "connect error: $@") =~ s/\s+/ /g;
                } elsif ($r->{timed_out}) {
                    $what = 'timeout';
                } elsif (!defined $r->{status}) {
                    $what = 'no status: ' . ($r->{error} // '?');
                } elsif ($r->{status} != 200) {
                    $what = $r->{status};
                } elsif ($r->{error}) {
                    $what = "200 but $r->{error}";
                } elsif ($uri =~ /png$/ && !png_info($r->{body})->{valid}) {
                    $what = '200 but not a valid PNG';
                } elsif ($uri =~ /svg$/ && $r->{body} !~ m{</svg>\s*\z}) {
                    $what = '200 but not a complete SVG';
                } else {
                    $what = 200;
                }
                printf $out "%.3f\t%s\t%s\n", time, $kind, $what;
            }
            close $out;
            POSIX::_exit(0);
        }
        push @children, $pid;
    }

    # two reloads, ~1.5 s and ~3.5 s into the load
    my @generations = ([$ngx->worker_pids]);
    my @reload_at;
    for my $n (1 .. 2) {
        sleep 0.1 while time < $t_start + 1.5 + 2 * ($n - 1);
        my @old = $ngx->worker_pids;
        push @reload_at, time;
        kill 'HUP', $ngx->master_pid;
        my @new;
        my $ok = wait_for(5, sub {
            my %old = map { ($_ => 1) } @old;
            @new = grep { !$old{$_} } $ngx->worker_pids;
            return @new >= 2;
        });
        ok($ok, "reload $n: new workers (@new) beside the old (@old)");
        push @generations, [@new];
    }

    for my $pid (@children) {
        waitpid($pid, 0);
        is($? >> 8, 0, "client $pid: exited 0");
    }

    my (@lines, @bad);
    for my $c (1 .. 4) {
        my $f = "$dir/client-$c.log";
        next unless -f $f;
        for my $l (split /\n/, read_file($f)) {
            my ($t, $kind, $what) = split /\t/, $l, 3;
            push @lines, [$t, $kind, $what];
            push @bad, "client $c, $kind at +"
                . sprintf('%.2f s', $t - $t_start) . ": $what"
                if $what ne '200';
        }
    }
    my $n200 = grep { $_->[2] eq '200' } @lines;

    ok(@lines > 20, scalar(@lines) . ' requests during the reloads (> 20)');
    is(scalar(@bad), 0, 'reload under load: 0 failed requests')
        or diag(join "\n", @bad[0 .. ($#bad < 19 ? $#bad : 19)]);
    is($n200, scalar(@lines), "every answer a complete 200 ($n200)");

    # the load spans both reloads: requests ended before the first, between
    # them and after the second
    my @when = map { $_->[0] } @lines;
    ok((grep { $_ < $reload_at[0] } @when), 'requests ended before reload 1');
    ok((grep { $_ > $reload_at[0] && $_ < $reload_at[1] } @when),
       'requests ended between the reloads');
    ok((grep { $_ > $reload_at[1] + 0.5 } @when),
       'requests ended after reload 2 (by the newest workers)');

    my %first = map { ($_ => 1) } @{ $generations[0] };
    ok(@{ $generations[2] } == 2 && !grep({ $first{$_} } @{ $generations[2] }),
       'the workers are a new generation');

    # the old workers go once their requests are done
    my %now;
    ok(wait_for(10, sub {
           %now = map { ($_ => 1) } $ngx->worker_pids;
           return keys(%now) == 2;
       }), 'the old workers exited');

    # renders is counted at admission, renders_total as a render returns;
    # a reservation is let go when its request is freed, which for a
    # client that hung up can come a moment later: wait for it
    my $want = ($before->{renders} // 0) + $n200;
    my $want_ok = renders_ok($before) + $n200;
    my $after = {};
    wait_for(2, sub {
        $after = status($ngx);
        return ($after->{renders} // -1) == $want
            && renders_ok($after) == $want_ok
            && ($after->{reserved} // -1) == 0;
    });
    is($after->{renders}, $want,
       "the zone counted on across the reloads: renders "
       . ($before->{renders} // 0) . " + $n200");
    is(renders_ok($after), $want_ok,
       "renders_total ok: " . renders_ok($before) . " + $n200");
    is($after->{reserved}, 0, 'reserved 0 at the end');
    is($after->{in_flight}, 0, 'in_flight 0 at the end');
    is(scalar(@{ $after->{workers} || [] }), 2,
       'the old workers gave their slots back');

    my $log = $ngx->error_log_content;
    my $reconf = () = $log =~ /signal 1 \(SIGHUP\) received.*reconfiguring/g;
    is($reconf, 2, 'the master reconfigured twice');
    is_deeply([grep { /exited with code [1-9]/ } split /\n/, $log], [],
              'no worker exited with an error');
    # an old worker that exits with requests in flight says so:
    # "open socket #N left in connection M", "aborting"
    is_deeply([grep { /\[alert\]/ } split /\n/, $log], [],
              'no [alert] in error.log (no request left behind by an old '
              . 'worker)');
    is_deeply([error_log_crashes($ngx)], [],
              'no worker exited on a signal');
}

done_testing();
