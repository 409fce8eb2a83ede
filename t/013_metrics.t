#!/usr/bin/perl
# Metrics, readiness and log variables (issue 7).
#
# - bubble_status answers Prometheus text that `promtool check metrics`
#   accepts, and the same figures as JSON (?format=json, Accept);
# - renders by format and outcome, refusals by reason, the duration
#   histogram move with real requests, and survive `nginx -s reload`;
# - per-worker RSS and renders in flight, the thread-pool queue depth;
# - $bubble_render_time, $bubble_reserved, $bubble_reject_reason in an
#   access log;
# - bubble_ready turns 503 under memory pressure while renders are still
#   admitted, and ready again once they end;
# - a real Prometheus server scrapes the module on loopback and answers a
#   PromQL query; the alert rules pass `promtool check rules` and their
#   unit tests; every Grafana and alert expression names a metric the
#   module emits.
#
# Needs promtool and prometheus (Debian "prometheus", `make deps`).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use POSIX ();
use File::Temp ();
use Time::HiRes qw(sleep time);
use BubbleTest;

require_module();

my $ROOT = $ENV{BUBBLE_ROOT} or die "BUBBLE_ROOT is not set\n";
my $ALERTS = "$ROOT/conf/prometheus/bubble-alerts.yml";
my $ALERT_TESTS = "$ROOT/conf/prometheus/bubble-alerts.test.yml";
my $DASHBOARD = "$ROOT/conf/grafana/bubble-dashboard.json";

for my $tool (qw(promtool prometheus)) {
    my $path = `command -v $tool 2>/dev/null`;
    chomp $path;
    BAIL_OUT("$tool is not installed: run `make deps` (Debian package "
             . "prometheus)") unless $path;
}

my $PAGE = POSIX::sysconf(POSIX::_SC_PAGESIZE()) || 4096;

my $w1 = bench_spec('w1');
my $w2 = json_decode(bench_spec('w2'));

# the series (README, "Metrics") a server without a response cache emits
my @SERIES = qw(
    bubble_renders_total bubble_refusals_total
    bubble_render_duration_seconds_bucket bubble_render_duration_seconds_sum
    bubble_render_duration_seconds_count
    bubble_memory_reserved_bytes bubble_memory_budget_bytes
    bubble_cgroup_limit_bytes bubble_cgroup_usage_bytes
    bubble_cgroup_working_set_bytes
    bubble_worker_rss_bytes bubble_worker_renders_in_flight
    bubble_thread_queue_depth bubble_ready
    bubble_queue_waiting bubble_queue_places bubble_queue_requests_total
    bubble_queue_wait_seconds_bucket bubble_queue_wait_seconds_sum
    bubble_queue_wait_seconds_count bubble_renders_cancelled_total
    bubble_render_overruns_total bubble_zone_slots
    bubble_workers_without_slot
);
my @CACHE_SERIES = qw(
    bubble_cache_entries bubble_cache_bytes bubble_cache_hits_total
    bubble_cache_misses_total bubble_cache_evictions_total
    bubble_cache_pins bubble_cache_held_bytes
    bubble_cache_reclaimed_pins_total
);
my @REASONS = qw(memory working_set queue limits bad_input);

# --- helpers ----------------------------------------------------------------

# Prometheus text -> { 'name{labels}' => value }, and the metric names
sub parse_prom {
    my ($text) = @_;
    my (%v, %names);
    for my $line (split /\n/, $text // '') {
        next if $line =~ /^#/ || $line !~ /\S/;
        if ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/) {
            $v{$1 . ($2 // '')} = $3 eq '+Inf' ? 9**9**9 : $3 + 0;
            $names{$1} = 1;
        } else {
            $v{__bad} .= "$line\n";
        }
    }
    return (\%v, \%names);
}

sub scrape {
    my ($ngx, %o) = @_;
    my $r = $ngx->http_request('GET', $o{path} // '/metrics',
                               headers => $o{headers} || {});
    my ($v, $n) = parse_prom($r->{body});
    return { res => $r, v => $v, names => $n, text => $r->{body} // '' };
}

sub jstatus {
    my ($ngx) = @_;
    my $r = $ngx->http_request('GET', '/metrics?format=json');
    return json_decode($r->{body}) // {};
}

sub run_cmd {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub promtool_metrics_ok {
    my ($text, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $tmp = File::Temp->new(SUFFIX => '.prom');
    print $tmp $text;
    close $tmp;
    my ($rc, $out) = run_cmd("promtool check metrics < " . $tmp->filename);
    is($rc, 0, "promtool check metrics: $desc") or diag($out);
    is($out, '', "promtool check metrics: no lint ($desc)") or diag($out);
}

sub statm_rss {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/statm" or return undef;
    my @f = split ' ', scalar <$fh>;
    return $f[1] * $PAGE;
}

sub read_log {
    my ($ngx) = @_;
    my $f = $ngx->dir . '/access.log';
    return -f $f ? read_file($f) : '';
}

sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# a slow chart: 30000 bubbles on 4096x4096 (BubbleTest), seconds
my $slow = slow_spec(13);

sub send_async {
    my ($port, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp') or die "connect: $!";
    print $s "POST $path HTTP/1.0\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n" . $body;
    return $s;
}

sub read_async {
    my ($s) = @_;
    my ($raw, $t) = BubbleTest::_read_all($s, 120);
    close $s;
    return BubbleTest::_parse_response($raw, 'POST');
}

my $log_format = q{log_format bubble '$status $request_method $request_uri }
    . q{rt=$bubble_render_time res=$bubble_reserved }
    . q{rej=[$bubble_reject_reason]';};

# --- configuration ----------------------------------------------------------

{
    my $z = 'bubble_zone bubble:1m; ';
    my @ok = (
        ['bubble_ready with a zone',
         http_conf => $z, server_conf => 'location = /r { bubble_ready; }'],
        ['bubble_ready_threshold 90%',
         http_conf => $z . 'bubble_ready_threshold 90%;'],
        ['bubble_ready_threshold 100 (no %)',
         http_conf => $z . 'bubble_ready_threshold 100;'],
        ['the variables in a log_format', http_conf => $log_format],
    );
    for my $c (@ok) {
        my ($desc, %conf) = @$c;
        my ($ok, $out) = nginx_config_test(%conf);
        ok($ok, "nginx -t accepts: $desc") or diag($out);
    }

    my @bad = (
        ['bubble_ready without a zone',
         qr/"bubble_ready" requires "bubble_zone"/,
         server_conf => 'location = /r { bubble_ready; }'],
        ['bubble_ready_threshold 0%', qr/invalid percentage "0%"/,
         http_conf => $z . 'bubble_ready_threshold 0%;'],
        ['bubble_ready_threshold 101%', qr/invalid percentage "101%"/,
         http_conf => $z . 'bubble_ready_threshold 101%;'],
        ['bubble_ready_threshold x', qr/invalid percentage "x"/,
         http_conf => $z . 'bubble_ready_threshold x;'],
        ['bubble_ready_threshold twice', qr/is duplicate/,
         http_conf => $z . 'bubble_ready_threshold 70%; '
                    . 'bubble_ready_threshold 80%;'],
        ['bubble_ready_threshold in a server', qr/not allowed here/,
         http_conf => $z,
         server_conf => 'bubble_ready_threshold 70%;'],
    );
    for my $c (@bad) {
        my ($desc, $re, %conf) = @$c;
        my ($ok, $out) = nginx_config_test(%conf);
        ok(!$ok, "nginx -t rejects: $desc");
        like($out, $re, "$desc: message") or diag($out);
    }
}

# --- the alert rules and the dashboard, on their own ------------------------

{
    my ($rc, $out) = run_cmd("promtool check rules $ALERTS");
    is($rc, 0, 'promtool check rules bubble-alerts.yml') or diag($out);
    like($out, qr/SUCCESS: 5 rules found/, 'five alert rules') or diag($out);

    ($rc, $out) = run_cmd("promtool test rules $ALERT_TESTS");
    is($rc, 0, 'promtool test rules: the alerts fire (and stay quiet) '
               . 'as their unit tests say') or diag($out);
}

my $dash = json_decode(read_file($DASHBOARD));
ok(ref $dash eq 'HASH' && ref $dash->{panels} eq 'ARRAY',
   'bubble-dashboard.json is a JSON dashboard with panels');

# every PromQL expression of the dashboard (panels, template variables)
my @dash_exprs;
for my $p (@{ $dash->{panels} || [] }) {
    next if ($p->{type} // '') eq 'row';
    my @t = @{ $p->{targets} || [] };
    ok(@t && !grep({ !length($_->{expr} // '') } @t),
       "dashboard panel \"$p->{title}\" has expressions");
    push @dash_exprs, map { $_->{expr} } @t;
}
for my $v (@{ $dash->{templating}{list} || [] }) {
    push @dash_exprs, $v->{definition} if ($v->{type} // '') eq 'query';
}
ok(@dash_exprs >= 10, scalar(@dash_exprs) . ' dashboard expressions');

my @alert_exprs;
{
    my $y = read_file($ALERTS);
    # "expr: |" blocks and one-line "expr: ..." (the file is ours: simple)
    while ($y =~ /^\s+expr:\s*(\|?)\s*(.*?)\n((?:\s{10,}.*\n)*)/mg) {
        push @alert_exprs, $1 ? $3 : $2;
    }
}
is(scalar @alert_exprs, 5, 'five alert expressions read');

# --- a server: counters, histogram, JSON, variables, reload -----------------

my ($estimate_mib, $prom_port, $prom_pid, $prom_dir);

{
    my $ngx = start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=2;',
        http_conf => "$log_format\n"
                   . 'bubble_zone bubble:1m; bubble_memory_limit 16m;',
        server_conf => q{
            access_log access.log bubble;
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_body_size 2m;
            }
            location /small { bubble; bubble_max_points 100; }
            location = /metrics { bubble_status; }
            location = /ready { bubble_ready; }
        });

    ok(wait_for(5, sub { @{ jstatus($ngx)->{workers} || [] } == 2 }),
       'a slot per worker');

    my $s0 = scrape($ngx);
    is($s0->{res}{status}, 200, 'GET /metrics: 200');
    is($s0->{res}{headers}{'content-type'},
       'text/plain; version=0.0.4; charset=utf-8',
       'Prometheus text exposition 0.0.4 by default');
    is($s0->{res}{headers}{'cache-control'}, 'no-store', 'not cached');
    ok(!exists $s0->{v}{__bad}, 'every sample line parses')
        or diag($s0->{v}{__bad});
    promtool_metrics_ok($s0->{text}, 'at start');

    for my $name (@SERIES) {
        ok($s0->{names}{$name}, "emits $name");
    }
    ok(!grep({ $s0->{names}{$_} } @CACHE_SERIES),
       'no bubble_cache_* series without a cache zone (no made-up zeros)');

    for my $f (qw(png svg pdf)) {
        for my $o (qw(ok error)) {
            ok(exists $s0->{v}{"bubble_renders_total{format=\"$f\","
                               . "outcome=\"$o\"}"},
               "bubble_renders_total{format=\"$f\",outcome=\"$o\"}");
        }
    }
    for my $reason (@REASONS) {
        ok(exists $s0->{v}{"bubble_refusals_total{reason=\"$reason\"}"},
           "bubble_refusals_total{reason=\"$reason\"}");
    }
    is($s0->{v}{bubble_memory_budget_bytes}, 16 * 1024 * 1024,
       'bubble_memory_budget_bytes: 16m');
    is($s0->{v}{bubble_memory_reserved_bytes}, 0, 'nothing reserved');
    is($s0->{v}{bubble_ready}, 1, 'bubble_ready 1');
    my $cg = $s0->{v};
    ok($cg->{bubble_cgroup_limit_bytes} > 0
       && $cg->{bubble_cgroup_usage_bytes} > 0
       && $cg->{bubble_cgroup_working_set_bytes} > 0
       && $cg->{bubble_cgroup_working_set_bytes}
          <= $cg->{bubble_cgroup_usage_bytes},
       'cgroup limit, usage and working set (<= usage)')
        or diag(join ' ', map { "$_=$cg->{$_}" } grep /cgroup/, keys %$cg);

    # worker RSS and renders in flight, for each worker pid
    my @pids = $ngx->worker_pids;
    for my $pid (@pids) {
        my $rss = $s0->{v}{"bubble_worker_rss_bytes{pid=\"$pid\"}"};
        my $now = statm_rss($pid);
        ok(defined $rss && $rss > 1024 * 1024
           && abs($rss - $now) < 0.5 * $now,
           "worker $pid: RSS " . ($rss // 'none') . " bytes "
           . "(statm now: $now)");
        is($s0->{v}{"bubble_worker_renders_in_flight{pid=\"$pid\"}"}, 0,
           "worker $pid: no render in flight");
    }

    # --- requests ---

    my $ct = { 'Content-Type' => 'application/json' };
    my @ok = (['/chart.png', $w1], ['/chart.png', $w1], ['/chart.svg', $w1],
              ['/chart.pdf', $w2]);
    for my $c (@ok) {
        my $r = $ngx->post_chart(@$c);
        is($r->{status}, 200, "POST $c->[0]: 200");
    }

    json_error_ok($ngx->post_chart('/chart.png', '{"data":'), 400,
                  'invalid_json', 'bad input: broken JSON');
    json_error_ok($ngx->http_request('POST', '/chart.png', body => $w1,
                      headers => { 'Content-Type' => 'text/plain' }),
                  415, 'unsupported_media_type', 'bad input: text/plain');
    json_error_ok($ngx->http_request('PUT', '/chart.png', body => $w1,
                                     headers => $ct),
                  405, 'method_not_allowed', 'bad input: PUT');
    json_error_ok($ngx->post_chart('/small.png', $w1), 413, 'too_large',
                  'limits: 142 rows over bubble_max_points 100');

    my $big = { %$w2, width => 4096, height => 4096 };
    # over the whole budget: 413, counted with the limits
    json_error_ok($ngx->post_chart('/chart.png', $big), 413, 'too_large',
                  'limits: 4096x4096 over 16m');
    my $r = $ngx->post_chart('/chart.png', $slow);
    my $j = json_error_ok($r, 413, 'too_large', 'limits: the slow chart');
    ($estimate_mib) = ($j->{message} // '') =~ /needs an estimated ([\d.]+)/;
    ok($estimate_mib && $estimate_mib > 40,
       "the slow chart's estimate: " . ($estimate_mib // '?') . " MiB");

    my %want = (
        'bubble_renders_total{format="png",outcome="ok"}' => 2,
        'bubble_renders_total{format="svg",outcome="ok"}' => 1,
        'bubble_renders_total{format="pdf",outcome="ok"}' => 1,
        'bubble_renders_total{format="png",outcome="error"}' => 0,
        'bubble_refusals_total{reason="memory"}' => 0,
        'bubble_refusals_total{reason="working_set"}' => 0,
        'bubble_refusals_total{reason="queue"}' => 0,
        'bubble_refusals_total{reason="limits"}' => 3,
        'bubble_refusals_total{reason="bad_input"}' => 3,
    );

    # A render is counted before its response is sent, a refusal in its
    # log phase, which runs once the response has been sent: the scrape
    # that follows at once (perhaps on the other worker) can come before
    # the refusals, so wait up to 2 s for them to land.
    my ($s1, %d);
    wait_for(2, sub {
        $s1 = scrape($ngx);
        %d = map { $_ => $s1->{v}{$_} - ($s0->{v}{$_} // 0) }
             keys %{ $s1->{v} };
        return !grep { ($d{$_} // -1) != $want{$_} } keys %want;
    });
    promtool_metrics_ok($s1->{text}, 'after renders and refusals');
    for my $k (sort keys %want) {
        is($d{$k}, $want{$k}, "$k: +$want{$k}");
    }

    # the histogram: cumulative, +Inf is the count, the count the renders
    for my $f (qw(png svg pdf)) {
        my @b = map { $s1->{v}{$_} }
                sort { my ($x) = $a =~ /le="([^"]+)"/;
                       my ($y) = $b =~ /le="([^"]+)"/;
                       ($x eq '+Inf' ? 1e9 : $x) <=> ($y eq '+Inf' ? 1e9 : $y) }
                grep { /^bubble_render_duration_seconds_bucket\{format="$f"/ }
                keys %{ $s1->{v} };
        is(scalar @b, 12, "$f: 12 buckets");
        ok(!grep({ $b[$_] < $b[$_ - 1] } 1 .. $#b), "$f: buckets cumulative");
        my $count = $s1->{v}{"bubble_render_duration_seconds_count"
                             . "{format=\"$f\"}"};
        is($b[-1], $count, "$f: +Inf bucket = count");
        is($count, $s1->{v}{"bubble_renders_total{format=\"$f\","
                            . "outcome=\"ok\"}"}
                   + $s1->{v}{"bubble_renders_total{format=\"$f\","
                              . "outcome=\"error\"}"},
           "$f: count = renders");
        my $sum = $s1->{v}{"bubble_render_duration_seconds_sum"
                           . "{format=\"$f\"}"};
        ok($sum > 0 && $sum < 10 * $count, "$f: sum $sum s");
    }
    ok($s1->{v}{bubble_memory_peak_bytes} > 0
       && $s1->{v}{bubble_memory_peak_bytes} <= 16 * 1024 * 1024,
       'peak reservation within the budget');
    is($s1->{v}{bubble_memory_reserved_bytes}, 0, 'all released');

    # --- JSON ---

    my $js = jstatus($ngx);
    my $ja = json_decode($ngx->http_request('GET', '/metrics',
                 headers => { Accept => 'application/json' })->{body});
    ok(ref $js eq 'HASH' && ref $ja eq 'HASH',
       'JSON on ?format=json and on Accept: application/json');
    is_deeply($ja->{renders_total}, $js->{renders_total},
              'the same counters either way');
    for my $f (qw(png svg pdf)) {
        for my $o (qw(ok error)) {
            is($js->{renders_total}{$f}{$o},
               $s1->{v}{"bubble_renders_total{format=\"$f\","
                        . "outcome=\"$o\"}"},
               "JSON renders_total.$f.$o = Prometheus");
        }
        is($js->{render_duration_seconds}{$f}{count},
           $s1->{v}{"bubble_render_duration_seconds_count{format=\"$f\"}"},
           "JSON render_duration_seconds.$f.count = Prometheus");
    }
    for my $reason (@REASONS) {
        is($js->{refusals_total}{$reason},
           $s1->{v}{"bubble_refusals_total{reason=\"$reason\"}"},
           "JSON refusals_total.$reason = Prometheus");
    }
    is_deeply([sort { $a <=> $b } map { $_->{pid} } @{ $js->{workers} }],
              [@pids], 'JSON workers: the worker pids');
    ok(!grep({ !($_->{rss} > 0) } @{ $js->{workers} }), 'JSON workers: rss');
    is($js->{ready}, JSON::PP::true, 'JSON ready: true');

    my $pf = $ngx->http_request('GET', '/metrics?format=prometheus',
                                headers => { Accept => 'application/json' });
    like($pf->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
         '?format=prometheus wins over Accept');
    my $bad = $ngx->http_request('GET', '/metrics?format=xml');
    my $bj = json_error_ok($bad, 400, 'bad_request', '?format=xml');
    is($bj->{path}, 'format', 'the error names "format"');
    my $head = $ngx->http_request('HEAD', '/metrics');
    is($head->{status}, 200, 'HEAD /metrics: 200');
    is($ngx->http_request('POST', '/metrics', body => 'x')->{status}, 405,
       'POST /metrics: 405');

    # --- the log variables ---

    my @log = split /\n/, read_log($ngx);
    my @png = grep { m{^200 POST /chart\.png } } @log;
    is(scalar @png, 2, 'access log: the two PNGs');
    for my $l (@png) {
        like($l, qr/ rt=\d+\.\d{3} res=\d{7,} rej=\[\]$/,
             'a render: $bubble_render_time s.mmm, $bubble_reserved bytes, '
             . 'no reason');
    }
    my %reason_of = (
        qr{^400 POST /chart\.png}   => 'bad_input',
        qr{^415 POST /chart\.png}   => 'bad_input',
        qr{^405 PUT /chart\.png}    => 'bad_input',
        qr{^413 POST /small\.png}   => 'limits',
        qr{^413 POST /chart\.png}   => 'limits',
    );
    for my $re (sort keys %reason_of) {
        my @l = grep { $_ =~ $re } @log;
        ok(@l && !grep({ !/ rt=- res=- rej=\[$reason_of{$re}\]$/ } @l),
           "access log: $reason_of{$re} for " . scalar(@l) . " line(s) "
           . "like $re") or diag(join "\n", @l);
    }
    my @m = grep { m{ /metrics} } @log;
    ok(@m && !grep({ !/ rt=- res=- rej=\[\]$/ } @m),
       'access log: /metrics has no render, no reservation, no reason');

    # --- a reload keeps every counter ---

    my @old = $ngx->worker_pids;
    kill 'HUP', $ngx->master_pid;
    ok(wait_for(10, sub {
           my @w = $ngx->worker_pids;
           @w == 2 && !grep { my $o = $_; grep { $_ == $o } @w } @old
       }), 'reload: new workers');
    ok(wait_for(5, sub { @{ jstatus($ngx)->{workers} || [] } == 2 }),
       'reload: the old workers gave their slots back');

    my $s2 = scrape($ngx);
    my @counters = grep { /_total\{|_bucket\{|_count\{|_sum\{/ }
                   keys %{ $s1->{v} };
    my @moved = grep { $s2->{v}{$_} != $s1->{v}{$_} } @counters;
    # renders, refusals, duration buckets, counts, sums; the admission
    # queue's outcomes and wait buckets, cancelled renders (issue 16)
    is(scalar @counters, 6 + 5 + 36 + 3 + 3 + 5 + 12 + 2,
       'counters compared: ' . scalar(@counters));
    is_deeply(\@moved, [], 'after a reload: every counter as before');

    is($ngx->post_chart('/chart.png', $w1)->{status}, 200,
       'after a reload: W1 renders');
    my $s3 = scrape($ngx);
    is($s3->{v}{'bubble_renders_total{format="png",outcome="ok"}'},
       $s1->{v}{'bubble_renders_total{format="png",outcome="ok"}'} + 1,
       'and the count goes on');
    my @new = $ngx->worker_pids;
    ok(!grep({ !defined $s3->{v}{"bubble_worker_rss_bytes{pid=\"$_\"}"} }
             @new), 'RSS of the new workers');
    promtool_metrics_ok($s3->{text}, 'after a reload');

    # A render is counted before its response is sent: a scrape right
    # after the response, on either worker, already has it.  (Renders were
    # counted in the log phase once, and a CI run scraped first.)
    my $png_ok = 'bubble_renders_total{format="png",outcome="ok"}';
    my $thumb = json_encode($w2);
    my @late;
    my $count = $s3->{v}{$png_ok};
    for my $i (1 .. 20) {
        my $r = $ngx->post_chart('/chart.png', $thumb);
        my $now = scrape($ngx)->{v}{$png_ok};
        push @late, "$i: $r->{status}, count $now, want " . ($count + 1)
            unless $r->{status} == 200 && $now == $count + 1;
        $count = $now;
    }
    is_deeply(\@late, [], '20 renders, each counted by the scrape that '
              . 'follows its response at once');

    # A client that hangs up once its request is sent: its render is
    # counted once (by the thread pool's c->error path when nginx saw the
    # close during the render, or by the usual one when it did not), or,
    # when nginx saw the close before a thread took the task, not done at
    # all and counted as cancelled (issue 16): one of the two, once
    my $cancelled = 'bubble_renders_cancelled_total{where="thread_pool"}';
    my $c0 = scrape($ngx)->{v}{$cancelled} // 0;
    my $gone = send_async($ngx->port, '/chart.png', $w1);
    close $gone;
    ok(wait_for(20, sub {
           my $v = scrape($ngx)->{v};
           $v->{$png_ok} + ($v->{$cancelled} // 0) == $count + $c0 + 1;
       }), 'a client that hangs up: its render counted once, or cancelled')
        or diag(join "\n", grep { !/metrics/ } split /\n/, read_log($ngx));
    # the request is freed once its reservation is released: past that
    # point nothing can count it again
    my $rel = {};
    ok(wait_for(20, sub {
           $rel = scrape($ngx)->{v};
           $rel->{bubble_memory_reserved_bytes} == 0
       }), 'the hung-up request is freed: nothing reserved');
    is($rel->{$png_ok} + ($rel->{$cancelled} // 0), $count + $c0 + 1,
       'and its render was not counted twice');
    $s3 = scrape($ngx);

    # --- the dashboard and the alerts name real metrics ---

    my %emitted = %{ $s3->{names} };
    my %named;
    for my $e (@dash_exprs, @alert_exprs) {
        $named{$_} = 1 for $e =~ /\b(bubble_[a-z_]+)\b/g;
    }
    my @cache_named = grep { /^bubble_cache_/ } sort keys %named;
    for my $name (grep { !/^bubble_cache_/ } sort keys %named) {
        ok($emitted{$name}, "dashboard/alerts: $name is emitted");
    }
    ok(@cache_named == 5, 'the dashboard has the five cache series');

    SKIP: {
        my ($has_cache) = nginx_config_test(
            http_conf => 'bubble_zone b:1m; bubble_cache_zone c:1m;');
        skip 'no bubble_cache_zone in this build (the response cache, '
             . 'issue 6, is not merged)', scalar @cache_named
            unless $has_cache;

        my $c = start_nginx(
            http_conf => 'bubble_zone b:1m; bubble_cache_zone c:1m;',
            server_conf => 'location = /metrics { bubble_status; }');
        my $sc = scrape($c);
        for my $name (@cache_named) {
            ok($sc->{names}{$name}, "with a cache zone: $name is emitted");
        }
        $c->stop;
    }

    # --- a real Prometheus scrapes it ---

    $prom_dir = File::Temp->newdir('bubble-prom-XXXXXX', TMPDIR => 1);
    $prom_port = BubbleTest::_free_port();
    my $port = $ngx->port;
    open my $fh, '>', "$prom_dir/prometheus.yml" or die $!;
    print $fh <<"YML";
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ALERTS
scrape_configs:
  - job_name: bubble
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:$port']
YML
    close $fh;

    $prom_pid = fork;
    die "fork: $!" unless defined $prom_pid;
    if ($prom_pid == 0) {
        open STDOUT, '>', "$prom_dir/prometheus.log";
        open STDERR, '>&', \*STDOUT;
        exec 'prometheus', "--config.file=$prom_dir/prometheus.yml",
             "--storage.tsdb.path=$prom_dir/data",
             "--web.listen-address=127.0.0.1:$prom_port",
             '--log.level=warn';
        exit 127;
    }

    my $get = sub {
        my ($path) = @_;
        my $r = eval {
            BubbleTest::http_request('GET', $path, port => $prom_port,
                                     timeout => 10)
        };
        return $r && $r->{status} && $r->{status} == 200
            ? json_decode($r->{body}) : undef;
    };

    ok(wait_for(60, sub {
           my $r = eval {
               BubbleTest::http_request('GET', '/-/ready',
                                        port => $prom_port, timeout => 2)
           };
           $r && ($r->{status} // 0) == 200;
       }), "prometheus is up on 127.0.0.1:$prom_port")
        or diag(read_file("$prom_dir/prometheus.log"));

    my $want_png = $s3->{v}{'bubble_renders_total{format="png",outcome="ok"}'};
    my $q = '/api/v1/query?query='
        . uri_escape('bubble_renders_total{job="bubble"}');
    my $res;
    ok(wait_for(60, sub {
           $res = $get->($q);
           $res && @{ $res->{data}{result} || [] } == 6;
       }), 'PromQL bubble_renders_total: six series scraped')
        or diag(json_encode($res // {}));

    my ($png) = grep { $_->{metric}{format} eq 'png'
                       && $_->{metric}{outcome} eq 'ok' }
                @{ $res->{data}{result} || [] };
    is($png && $png->{value}[1], $want_png,
       "PromQL: bubble_renders_total{format=\"png\",outcome=\"ok\"} "
       . "= $want_png, as the module says");
    is($png && $png->{metric}{instance}, "127.0.0.1:$port",
       'from our nginx');

    my $up = $get->('/api/v1/query?query=' . uri_escape('up{job="bubble"}'));
    is($up && $up->{data}{result}[0]{value}[1], '1', 'up{job="bubble"} 1');

    my $p50 = $get->('/api/v1/query?query=' . uri_escape(
        'histogram_quantile(0.5, sum by (le) '
        . '(bubble_render_duration_seconds_bucket))'));
    my $v50 = $p50 ? $p50->{data}{result}[0]{value}[1] : undef;
    ok(defined $v50 && $v50 > 0 && $v50 < 10,
       'PromQL histogram_quantile over the histogram: '
       . ($v50 // 'none') . ' s');

    my $rules = $get->('/api/v1/rules');
    my @loaded = map { @{ $_->{rules} } } @{ $rules->{data}{groups} || [] };
    is(scalar(grep { ($_->{health} // '') eq 'ok' } @loaded), 5,
       'prometheus evaluates the five alert rules on real data');
    my @firing = grep { ($_->{state} // '') ne 'inactive' } @loaded;
    is_deeply([map { $_->{name} } @firing], [],
              'and none is pending or firing on an idle server');

    kill 'TERM', $prom_pid;
    waitpid $prom_pid, 0;
    $prom_pid = undef;

    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# --- readiness under memory pressure -----------------------------------------
#
# One worker, one render thread, max_queue=1; a budget such that the slow
# chart holds ~85% of it: past the 75% readiness threshold, under the 100%
# admission refuses at.  While it renders: /ready 503, a small chart is
# still admitted (queued), another one finds the queue full, a second slow
# chart is refused for memory.

SKIP: {
    skip 'no estimate for the slow chart', 1 unless $estimate_mib;

    my $budget = int($estimate_mib * 1024 * 1024 / 0.85);

    # bubble_queue 0: a chart that does not fit is refused at once, not
    # queued (t/024_queue.t tests the queue)
    my $ngx = start_nginx(
        workers => 1,
        main_conf => 'thread_pool one threads=1 max_queue=1;',
        http_conf => "$log_format\nbubble_zone bubble:1m; "
                   . "bubble_memory_limit $budget; bubble_queue 0;",
        server_conf => q{
            access_log access.log bubble;
            location /chart {
                bubble;
                bubble_thread_pool one;
                bubble_max_body_size 2m;
            }
            location = /metrics { bubble_status; }
            location = /ready { bubble_ready; }
            location = /healthz { return 200; }
        });

    my ($pid) = $ngx->worker_pids;
    my $ready = $ngx->http_request('GET', '/ready');
    is($ready->{status}, 200, '/ready: 200 when idle');
    my $rj = json_decode($ready->{body});
    is($rj->{ready}, JSON::PP::true, '{"ready":true}');
    is($rj->{threshold}, 75, 'threshold 75% by default');
    is($rj->{budget}, $budget, "budget $budget bytes");

    my $t0 = time;
    my $s1 = send_async($ngx->port, '/chart.png', $slow);

    my $unready;
    ok(wait_for(20, sub {
           $unready = $ngx->http_request('GET', '/ready');
           ($unready->{status} // 0) == 503;
       }), sprintf('/ready: 503 while the slow chart renders (%.2f s in)',
                   time - $t0));
    my $uj = json_decode($unready->{body}) // {};
    is($uj->{ready}, JSON::PP::false, '{"ready":false}');
    is($uj->{reason}, 'memory', '"reason":"memory"');
    ok($uj->{reserved} > 0.75 * $budget && $uj->{reserved} <= $budget,
       "reserved $uj->{reserved}: past 75% of the budget, within it");
    is($ngx->http_request('GET', '/healthz')->{status}, 200,
       'liveness stays 200');

    my $m = scrape($ngx);
    is($m->{v}{bubble_ready}, 0, 'bubble_ready 0');
    is($m->{v}{"bubble_worker_renders_in_flight{pid=\"$pid\"}"}, 1,
       'one render in flight');
    is($m->{v}{bubble_thread_queue_depth}, 0, 'nothing queued yet');

    # unready, yet renders are admitted: this one waits for the thread
    my $s2 = send_async($ngx->port, '/chart.png', json_encode($w2));
    my $q;
    ok(wait_for(10, sub {
           $q = scrape($ngx);
           ($q->{v}{bubble_thread_queue_depth} // 0) == 1;
       }), 'a small chart is admitted while unready: queue depth 1');
    is($q->{v}{"bubble_worker_renders_in_flight{pid=\"$pid\"}"}, 2,
       'two renders in flight');

    my $full = $ngx->post_chart('/chart.png', $w2);
    my $fj = json_error_ok($full, 503, 'overloaded', 'the queue is full');
    like($fj->{message} // '', qr/queue/, 'the message says queue');

    my $refused = $ngx->post_chart('/chart.png', $slow);
    my $mj = json_error_ok($refused, 503, 'overloaded',
                           'a second slow chart is refused');
    like($mj->{message} // '', qr/budget/, 'for the memory budget');

    my $slow_done = read_async($s1);
    my $t = time - $t0;
    is($slow_done->{status}, 200, sprintf('the slow chart: 200 after '
                                          . '%.1f s', $t));
    ok(png_info($slow_done->{body})->{valid}, 'a valid PNG');
    my $small = read_async($s2);
    is($small->{status}, 200, 'the queued small chart: 200');

    ok(wait_for(5, sub {
           ($ngx->http_request('GET', '/ready')->{status} // 0) == 200
       }), '/ready: 200 again once the renders end');

    # Both renders were counted before their responses were sent; a
    # reservation (a render "in flight") is let go when its request is
    # freed, just after: wait for that alone.
    my $e;
    wait_for(2, sub {
        $e = scrape($ngx);
        return ($e->{v}{"bubble_worker_renders_in_flight{pid=\"$pid\"}"}
                // -1) == 0;
    });
    is($e->{v}{bubble_ready}, 1, 'bubble_ready 1');
    is($e->{v}{bubble_thread_queue_depth}, 0, 'queue empty');
    is($e->{v}{"bubble_worker_renders_in_flight{pid=\"$pid\"}"}, 0,
       'nothing in flight');
    is($e->{v}{'bubble_refusals_total{reason="queue"}'}, 1,
       'refusals{queue} 1');
    is($e->{v}{'bubble_refusals_total{reason="memory"}'}, 1,
       'refusals{memory} 1');
    is($e->{v}{'bubble_renders_total{format="png",outcome="ok"}'}, 2,
       'renders{png,ok} 2');
    promtool_metrics_ok($e->{text}, 'after pressure');

    my @log = split /\n/, read_log($ngx);
    is(scalar(grep { /^503 .* rej=\[queue\]$/ } @log), 1,
       'access log: one rej=[queue]');
    is(scalar(grep { /^503 .* rej=\[memory\]$/ } @log), 1,
       'access log: one rej=[memory]');
    my ($slow_line) = grep { /^200 POST .* res=(\d+)/ && $1 > 0.75 * $budget }
                      @log;
    ok($slow_line, 'access log: the slow render\'s reservation')
        or diag(join "\n", @log);

    # the histogram puts the slow render where its logged time says: the
    # buckets below it hold the small chart alone, the first at or past
    # it both renders
    my ($rt) = ($slow_line // '') =~ / rt=(\d+\.\d+)/;
    my %bucket = map { /le="([\d.]+)"/ ? ($1 => $e->{v}{$_}) : () }
        grep { /^bubble_render_duration_seconds_bucket\{format="png",/ }
        keys %{ $e->{v} };
    my @le = sort { $a <=> $b } keys %bucket;
    my ($at) = grep { $_ >= ($rt // 0) + 0.001 } @le;
    my ($below) = reverse grep { $_ < ($rt // 0) - 0.001 } @le;
    ok(defined $rt && defined $at && $bucket{$at} == 2
       && (!defined $below || $bucket{$below} <= 1),
       'the slow render (' . ($rt // '?') . ' s) is in the bucket of its '
       . 'time: le=' . ($below // '-') . ' holds '
       . (defined $below ? $bucket{$below} : '-') . ', le='
       . ($at // '-') . ' holds ' . ($at ? $bucket{$at} : '-'));

    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# a custom threshold is what /ready reports and applies
{
    my $ngx = start_nginx(
        http_conf => 'bubble_zone bubble:1m; bubble_memory_limit 64m; '
                   . 'bubble_ready_threshold 90%;',
        server_conf => 'location = /ready { bubble_ready; }');
    my $r = $ngx->http_request('GET', '/ready');
    is($r->{status}, 200, 'threshold 90%: ready when idle');
    is(json_decode($r->{body})->{threshold}, 90, 'threshold 90 reported');
    is($ngx->http_request('POST', '/ready', body => 'x')->{status}, 405,
       'POST /ready: 405');
}

END {
    if ($prom_pid) {
        kill 'TERM', $prom_pid;
        waitpid $prom_pid, 0;
    }
}

done_testing();
