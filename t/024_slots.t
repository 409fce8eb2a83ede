#!/usr/bin/perl
# Process slots sized from worker_processes (issue 16):
#
#   - worker_processes 130: every worker gets a slot in a 1m zone (there
#     were 128, fixed) and renders; /ready 200;
#   - a reload from 2 to 130 workers appends slots while the old workers
#     keep theirs;
#   - a zone with no room for a reload's slots: the workers without one
#     refuse renders with 503, and /ready answers 503 "no_slot" whichever
#     worker answers it, until a reload back to fewer workers.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use BubbleTest;

require_module();

my $w2 = bench_spec('w2');

sub status {
    my ($ngx, %o) = @_;
    my $r = $ngx->http_request('GET', '/status?format=json',
                               port => $o{port}, timeout => 10);
    return json_decode($r->{body}) // {};
}

# the config of a running server with worker_processes changed, then HUP
sub reload_workers {
    my ($ngx, $n) = @_;
    my $f = $ngx->dir . '/nginx.conf';
    my $conf = read_file($f);
    $conf =~ s/^worker_processes \d+;/worker_processes $n;/m
        or die "no worker_processes in $f";
    open my $fh, '>', $f or die "$f: $!";
    print $fh $conf;
    close $fh;
    kill 'HUP', $ngx->master_pid;
}

# --- 130 workers: a slot each, and each renders -----------------------------

{
    # connections spread over the workers: a reuseport listener gives
    # each its own socket, and the kernel picks one by the client's port
    my $spread = BubbleTest::_free_port();

    my $ngx = start_nginx(
        workers => 130,
        timeout => 60,
        http_conf => qq{
            bubble_zone bubble:1m;
            server {
                listen 127.0.0.1:$spread reuseport;
                location /chart { bubble; }
            }
        },
        server_conf => q{
            location /chart { bubble; }
            location = /status { bubble_status; }
            location = /ready { bubble_ready; }
        });

    my $st = {};
    ok(wait_for(60, sub {
           $st = status($ngx);
           @{ $st->{workers} || [] } == 130;
       }), '130 workers hold a slot each')
        or diag('workers with a slot: ' . scalar @{ $st->{workers} || [] });
    cmp_ok($st->{slots}, '>=', 2 * 130, "the zone has $st->{slots} slots "
           . '(twice worker_processes and spares)');
    is($st->{slotless}, 0, 'no worker without a slot');

    my $ready = $ngx->http_request('GET', '/ready');
    is($ready->{status}, 200, '/ready: 200');

    # until every slot has admitted a render: W2 as SVG, a few ms each
    my ($sent, $bad, %seen) = (0, 0);
    my $all = wait_for(120, sub {
        for (1 .. 20) {
            my $r = BubbleTest::post_chart('/chart.svg', $w2,
                                           port => $spread, timeout => 10);
            $sent++;
            $bad++ if ($r->{status} // 0) != 200;
        }
        $st = status($ngx);
        my @w = @{ $st->{workers} || [] };
        return @w == 130 && !grep { !$_->{admitted} } @w;
    });
    ok($all, "all 130 workers rendered ($sent charts sent)")
        or diag(scalar(grep { !$_->{admitted} } @{ $st->{workers} || [] })
                . ' workers without a render');
    is($bad, 0, 'every chart: 200');

    my $log = $ngx->error_log_content;
    unlike($log, qr/no free slot/, 'no "no free slot" in error.log');
    is_deeply([grep { /\[alert\]/ } split /\n/, $log], [], 'no [alert]');
    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# --- a reload from 2 to 130 workers ------------------------------------------

{
    my $ngx = start_nginx(
        workers => 2,
        http_conf => 'bubble_zone bubble:1m;',
        server_conf => q{
            location /chart { bubble; }
            location = /status { bubble_status; }
            location = /ready { bubble_ready; }
        });

    my $st = {};
    ok(wait_for(5, sub { @{ (status($ngx))->{workers} || [] } == 2 }),
       'two workers, a slot each');
    my $before = status($ngx)->{slots};

    reload_workers($ngx, 130);

    ok(wait_for(60, sub {
           $st = status($ngx);
           @{ $st->{workers} || [] } == 130;
       }), 'after a reload to 130 workers: 130 slots held')
        or diag('held: ' . scalar @{ $st->{workers} || [] });
    cmp_ok($st->{slots}, '>=', $before + 2 * 130,
           "slots appended: $before, then $st->{slots}");
    is($st->{slotless}, 0, 'no worker without a slot');
    is($ngx->http_request('GET', '/ready')->{status}, 200, '/ready: 200');
    is($ngx->post_chart('/chart.svg', $w2)->{status}, 200, 'a chart: 200');

    reload_workers($ngx, 2);
    ok(wait_for(60, sub { @{ (status($ngx))->{workers} || [] } == 2 }),
       'back to 2 workers: the others gave their slots back');

    unlike($ngx->error_log_content, qr/no free slot/,
           'no "no free slot" in error.log');
    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# --- no room for a reload's slots: not ready, and said why -------------------
#
# A 32k zone holds the queue's 200 places and the slots of 2 workers, not
# those of 130 more.

{
    my $ngx = start_nginx(
        workers => 2,
        http_conf => 'bubble_zone bubble:32k; bubble_queue 200;',
        server_conf => q{
            location /chart { bubble; }
            location = /status { bubble_status; }
            location = /ready { bubble_ready; }
        });

    ok(wait_for(5, sub { @{ (status($ngx))->{workers} || [] } == 2 }),
       'a 32k zone: two workers, a slot each');
    is($ngx->http_request('GET', '/ready')->{status}, 200, '/ready: 200');

    reload_workers($ngx, 130);

    my $ready;
    ok(wait_for(60, sub {
           $ready = $ngx->http_request('GET', '/ready');
           ($ready->{status} // 0) == 503;
       }), 'after a reload to 130 workers: /ready 503');
    is((json_decode($ready->{body}) // {})->{reason}, 'no_slot',
       '{"reason":"no_slot"}');

    my $st = status($ngx);
    cmp_ok($st->{slotless}, '>', 0, "status: slotless $st->{slotless}");

    my $m = $ngx->http_request('GET', '/status');
    like($m->{body} // '', qr/^bubble_workers_without_slot [1-9]/m,
         'bubble_workers_without_slot > 0');
    like($m->{body} // '', qr/^bubble_ready 0$/m, 'bubble_ready 0');

    # a worker without a slot refuses: 503, never an unaccounted render
    my ($ok, $refused) = (0, 0);
    for (1 .. 40) {
        my $r = $ngx->post_chart('/chart.svg', $w2);
        $ok++ if ($r->{status} // 0) == 200;
        $refused++ if ($r->{status} // 0) == 503
                      && ($r->{body} // '') =~ /no slot/;
    }
    is($ok + $refused, 40, "every chart 200 or 503 \"no slot\" ($ok, "
       . "$refused)");

    my $log = $ngx->error_log_content;
    like($log, qr/has no room for the slots of 130 more workers/,
         'the master says the zone has no room');
    like($log, qr/no free slot among the \d+ of the zone for process \d+: it reports not ready/,
         'a worker says it has no slot, and reports not ready');
    my $said = () = $log =~ /no free slot among/g;
    cmp_ok($said, '<=', 130, "once per worker at most ($said)");

    reload_workers($ngx, 2);
    ok(wait_for(60, sub {
           ($ngx->http_request('GET', '/ready')->{status} // 0) == 200
       }), 'back to 2 workers: /ready 200');
    is(status($ngx)->{slotless}, 0, 'no worker without a slot');
    is($ngx->post_chart('/chart.svg', $w2)->{status}, 200, 'a chart: 200');
    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

done_testing();
