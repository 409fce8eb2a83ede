#!/usr/bin/perl
# Right answers at the edges of HTTP (issue 15, items 1, 5 and 7):
#
# - GET, HEAD and conditional GET agree.  A chart the layout refuses (no
#   room for its panel, every row off a log axis) is a 400 without an ETag
#   for all three, never a 200 or 304 "immutable", with or without the
#   response cache.  HEAD of a chart has GET's status and headers,
#   Content-Length and X-Bubble-Dropped-Rows included, on a miss and on a
#   hit.
# - POST with If-None-Match that matches answers 412 without rendering.
# - "+" in ?spec= is a space, as HTML forms write it; "%2B" stays "+".
# - An extension that is not .png, .svg or .pdf (".gif", ".svg;x=1") and a
#   compact URL without one ("/chart.svg/<blob>") are refused by name.
# - A layout-time 400 counts as a bad_input refusal, not a render error; a
#   client's error carries no X-Bubble-Cache and counts as no miss.
# - Workers' anonymous memory is reported apart from their RSS.
# - The demo's /signed/ location serves signed POSTs only.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Compress::Zlib ();
use MIME::Base64 ();
use Digest::SHA ();
use BubbleTest;

require_module();

my $SECRET = 'edge-secret-0123456789';

my $ngx = start_nginx(
    workers => 2,
    http_conf => q{
        bubble_zone        bubble:1m;
        bubble_cache_zone  charts:8m;
    },
    server_conf => qq{
        location /chart  { bubble; bubble_cache off; }
        location /cached { bubble; bubble_cache_header on; }
        location /signed {
            bubble;
            bubble_url_secret  "$SECRET";
            bubble_sign_post   on;
        }
        location = /status  { bubble_status; }
        location = /metrics { bubble_status; }
    },
);

sub compact {
    my ($spec, $ext, $base) = @_;
    my $json = ref $spec ? json_encode($spec) : $spec;
    my ($d) = Compress::Zlib::deflateInit(-WindowBits => -15, -Level => 9);
    my ($out) = $d->deflate($json);
    my ($end) = $d->flush();
    (my $b64 = MIME::Base64::encode_base64url($out . $end)) =~ s/=+$//;
    return ($base // '/chart') . "/$b64." . ($ext // 'png');
}

sub status {
    return json_decode($ngx->http_request('GET', '/status?format=json')
                       ->{body}) // {};
}

sub metric {
    my ($name) = @_;
    my $text = $ngx->http_request('GET', '/metrics')->{body} // '';
    return $text =~ /^\Q$name\E (\S+)$/m ? $1 : 0;
}

sub renders {
    my $st = status();
    my $n = 0;
    for my $f (values %{ $st->{renders_total} || {} }) {
        $n += ($f->{ok} // 0) + ($f->{error} // 0);
    }
    return $n;
}

# --- 1. charts the layout refuses: GET, HEAD, conditional GET -------------

my %refused = (
    'no room for the panel' => {
        data => { x => [1, 2], y => [1, 2] }, width => 800, height => 73,
        title => 'T', subtitle => 'S', caption => 'C',
    },
    'every row off a log axis' => {
        data => { x => [-1, 0], y => [1, 2] }, x => { scale => 'log10' },
    },
);

for my $what (sort keys %refused) {
    for my $loc ('/chart', '/cached') {
        for my $ext (qw(png svg pdf)) {
            my $u = compact($refused{$what}, $ext, $loc);
            my $t = "$what, $loc .$ext";

            my $g = $ngx->http_request('GET', $u);
            json_error_ok($g, 400, undef, "$t: GET");
            ok(!defined $g->{headers}{etag}, "$t: GET: no ETag");

            my $h = $ngx->http_request('HEAD', $u);
            is($h->{status}, 400, "$t: HEAD: 400 as GET");
            ok(!defined $h->{headers}{etag}, "$t: HEAD: no ETag");
            is($h->{headers}{'cache-control'}, 'no-store',
               "$t: HEAD: no-store");

            for my $inm ('*', '"00000000000000000000000000000000"') {
                my $c = $ngx->http_request('GET', $u,
                            headers => { 'If-None-Match' => $inm });
                is($c->{status}, 400, "$t: If-None-Match $inm: 400");
            }
        }
    }
}

# --- 1 and 7. a chart: HEAD has GET's headers; 304 for its ETag -----------

my $w2 = json_decode(bench_spec('w2'));
my @same = qw(content-type content-length etag cache-control
              x-bubble-dropped-rows);

for my $loc ('/chart', '/cached') {
    my $u = compact($w2, 'png', $loc);
    # on /cached: HEAD first is a miss, then GET a miss too (HEAD renders
    # and stores), then HEAD a hit
    my $h1 = $ngx->http_request('HEAD', $u);
    my $g = $ngx->http_request('GET', $u);
    my $h2 = $ngx->http_request('HEAD', $u);
    is($g->{status}, 200, "$loc: GET 200");
    ok(png_info($g->{body})->{valid}, "$loc: a valid PNG");
    for my $h ($h1, $h2) {
        is($h->{status}, 200, "$loc: HEAD 200");
        is(length($h->{body} // ''), 0, "$loc: HEAD has no body");
        for my $k (@same) {
            is($h->{headers}{$k}, $g->{headers}{$k}, "$loc: HEAD's $k is GET's");
        }
    }
    is($g->{headers}{'content-length'}, length $g->{body},
       "$loc: Content-Length is the body's");

    for my $inm ($g->{headers}{etag}, '*') {
        my $c = $ngx->http_request('GET', $u,
                                   headers => { 'If-None-Match' => $inm });
        is($c->{status}, 304, "$loc: If-None-Match $inm: 304");
        is($c->{headers}{etag}, $g->{headers}{etag}, "$loc: 304 ETag");
    }
}
{
    my $h0 = status()->{cache}{hits};
    my $h = $ngx->http_request('HEAD', compact($w2, 'png', '/cached'));
    is($h->{status}, 200, '/cached: HEAD of a stored chart: 200');
    is(status()->{cache}{hits}, $h0 + 1, 'from the cache (a hit)');
}

# --- 7. POST with If-None-Match that matches: 412, nothing rendered -------

{
    my $body = json_encode($w2);
    my $etag = $ngx->post_chart('/chart.svg', $body)->{headers}{etag};
    ok($etag, 'POST: an ETag');
    my $n = renders();
    for my $inm ('*', $etag) {
        my $r = $ngx->http_request('POST', '/chart.svg', body => $body,
                    headers => { 'Content-Type' => 'application/json',
                                 'If-None-Match' => $inm });
        json_error_ok($r, 412, 'precondition_failed',
                      "POST If-None-Match $inm: 412");
    }
    my $r = $ngx->http_request('POST', '/chart.svg', body => $body,
                headers => { 'Content-Type' => 'application/json',
                             'If-None-Match' => '"other"' });
    is($r->{status}, 200, 'POST If-None-Match of another ETag: 200');
    is(renders(), $n + 1, 'the 412s rendered nothing, the 200 once');
}

# --- 5. "+" in ?spec= is a space; "%2B" a plus -----------------------------

{
    my $spec = '{ "title" : "A B", "data" : { "x" : [1,2], "y" : [1,2] } }';
    (my $form = $spec) =~ s/([^A-Za-z0-9 _.~-])/sprintf('%%%02X', ord $1)/ge;
    $form =~ tr/ /+/;
    my $r = $ngx->http_request('GET', "/chart.svg?spec=$form");
    is($r->{status}, 200, 'a form-encoded spec (spaces as +): 200');
    like($r->{body}, qr/>A B</, 'its title is "A B"');
    unlike($r->{body}, qr/A\+B/, 'not "A+B"');

    (my $plus = $spec) =~ s/A B/A%2BB/;
    $plus =~ s/([^A-Za-z0-9 _.~%-])/sprintf('%%%02X', ord $1)/ge;
    $plus =~ tr/ /+/;
    $r = $ngx->http_request('GET', "/chart.svg?spec=$plus");
    is($r->{status}, 200, '%2B in a spec: 200');
    like($r->{body}, qr/>A\+B</, '%2B is a "+"');
}

# --- 7. formats the module does not draw are refused by name ---------------

{
    my $blob = compact($w2, 'png');
    (my $noext = $blob) =~ s{^/chart/(.*)\.png$}{/chart.svg/$1};
    for my $u ('/chart.gif?spec=' . '%7B%7D', $blob =~ s/\.png$/.gif/r,
               $blob =~ s/\.png$/.svg;x=1/r, $noext)
    {
        my $r = $ngx->http_request('GET', $u);
        json_error_ok($r, 400, 'bad_request', "GET " . substr($u, 0, 24)
                      . "...: 400");
        is((json_decode($r->{body}) // {})->{path}, 'format',
           'the error names "format"');
    }
    my $p = $ngx->post_chart('/chart.gif', json_encode($w2));
    json_error_ok($p, 400, 'bad_request', 'POST /chart.gif: 400');
}

# --- 7. refusals are counted as refusals; errors are no cache misses -------

{
    my $bad = 'bubble_refusals_total{reason="bad_input"}';
    my $err = 'bubble_renders_total{format="png",outcome="error"}';
    my ($b0, $e0) = (metric($bad), metric($err));
    my $m0 = status()->{cache}{misses};
    my $r = $ngx->http_request('GET', compact($refused{'no room for the panel'},
                                              'png', '/cached'));
    is($r->{status}, 400, 'a layout-time 400');
    ok(!defined $r->{headers}{'x-bubble-cache'}, 'has no X-Bubble-Cache');
    ok(wait_for(5, sub { metric($bad) == $b0 + 1 }),
       'is counted as a bad_input refusal');
    is(metric($err), $e0, 'and not as a render error');
    is(status()->{cache}{misses}, $m0, 'and not as a cache miss');
}

# --- 7. workers' anonymous memory, apart from RSS --------------------------

{
    my $text = $ngx->http_request('GET', '/metrics')->{body};
    for my $pid ($ngx->worker_pids) {
        my ($rss) = $text =~ /^bubble_worker_rss_bytes\{pid="$pid"\} (\d+)$/m;
        my ($anon) = $text =~ /^bubble_worker_anon_bytes\{pid="$pid"\} (\d+)$/m;
        ok(defined $anon && $anon > 0 && $anon < $rss,
           "worker $pid: anon " . ($anon // 'none') . " < rss " . ($rss // '?'));
    }
    my $js = status();
    ok(!grep({ !($_->{anon} > 0 && $_->{anon} < $_->{rss}) }
             @{ $js->{workers} || [] }), 'JSON workers: anon < rss');
}

# --- 7. signed POSTs only where URLs are signed ----------------------------

{
    my $body = json_encode($w2);
    my $r = $ngx->post_chart('/signed/chart.png', $body);
    json_error_ok($r, 403, undef, 'an unsigned POST to a signed location: 403');

    (my $sig = Digest::SHA::hmac_sha256_base64("png:$body", $SECRET))
        =~ tr{+/}{-_};
    $r = $ngx->post_chart('/signed/chart.png?sig=' . substr($sig, 0, 22),
                          $body);
    is($r->{status}, 200, 'a signed POST: 200');

    # the demo's own /signed/ location says the same
    my $demo = read_file("$ENV{BUBBLE_ROOT}/conf/demo.conf");
    my ($block) = $demo =~ m{location /signed/ \{(.*?)\}}s;
    like($block // '', qr/^\s*bubble_sign_post\s+on;/m,
         'conf/demo.conf: /signed/ has bubble_sign_post on');
}

is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');

done_testing();
