#!/usr/bin/perl
# Directives: where they are allowed, what values they take, and that
# `nginx -t` names the directive when one is wrong.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;

require_module();

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
    like($out, qr/nginx\.conf:\d+/, "$desc: message has file:line");
}

# --- accepted -----------------------------------------------------------------

conf_ok('bubble in a location',
        server_conf => 'location /chart { bubble; }');

conf_ok('limits at http, server and location level',
        http_conf   => 'bubble_max_body_size 2m; bubble_max_points 50000;'
                     . ' bubble_max_pixels 16m;',
        server_conf => 'bubble_max_body_size 1m; bubble_max_points 1000;'
                     . ' bubble_max_pixels 4m;'
                     . ' location /chart { bubble; bubble_max_body_size 1k;'
                     . ' bubble_max_points 10; bubble_max_pixels 480000; }');

conf_ok('bubble_max_pixels with k and m suffixes',
        server_conf => 'location /a { bubble; bubble_max_pixels 640k; }'
                     . ' location /b { bubble; bubble_max_pixels 16m; }');

# --- rejected -----------------------------------------------------------------

conf_fails('bubble_max_points abc', qr/bubble_max_points/,
           server_conf => 'location /chart { bubble; bubble_max_points abc; }');

conf_fails('bubble_max_pixels abc', qr/bubble_max_pixels/,
           server_conf => 'location /chart { bubble; bubble_max_pixels abc; }');

conf_fails('bubble_max_body_size xyz', qr/bubble_max_body_size/,
           server_conf =>
               'location /chart { bubble; bubble_max_body_size xyz; }');

conf_fails('bubble_max_points without a value', qr/bubble_max_points/,
           server_conf => 'location /chart { bubble; bubble_max_points; }');

conf_fails('bubble at server level',
           qr/"bubble" directive is not allowed here/,
           server_conf => 'bubble;');

conf_fails('bubble at http level',
           qr/"bubble" directive is not allowed here/,
           http_conf => 'bubble;');

conf_fails('bubble_max_points in the main context',
           qr/"bubble_max_points" directive is not allowed here/,
           main_conf => 'bubble_max_points 10;');

# --- a config that passes -t also starts and serves ---------------------------

{
    my $n = start_nginx(http_conf => 'bubble_max_points 50000;',
                        server_conf => 'location /chart { bubble; }');
    my $r = post_chart('/chart.png', bench_spec('w2'));
    is($r->{status}, 200, 'server with the module loaded renders W2');
    is_deeply([error_log_crashes($n)], [], 'no crashes');
}

done_testing();
