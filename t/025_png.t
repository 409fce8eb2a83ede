#!/usr/bin/perl
# bubble_png_compression: fast (bubble_png_fast.c, the default) and small
# (zlib) both give valid PNGs that decode to the same pixels; nginx -t
# refuses another value.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;
use BubblePNG;

require_module();

# --- configuration ------------------------------------------------------------

{
    my ($ok, $out) = nginx_config_test(
        http_conf   => 'bubble_png_compression small;',
        server_conf => 'location /a { bubble; bubble_png_compression fast; }'
                     . ' location /b { bubble; }');
    ok($ok, 'nginx -t accepts fast and small at http and location level')
        or diag($out);

    ($ok, $out) = nginx_config_test(
        server_conf => 'location /a { bubble; bubble_png_compression zip; }');
    ok(!$ok, 'nginx -t rejects bubble_png_compression zip');
    like($out, qr/invalid value "zip"/, 'the message names the value');
    like($out, qr/nginx\.conf:\d+/, 'the message has file:line');
}

# --- the same pixels from both encoders ---------------------------------------

my $n = start_nginx(
    http_conf   => 'bubble_png_compression small;',
    server_conf => 'location /fast { bubble; bubble_png_compression fast; }'
                 . ' location /small { bubble; }'
                 . ' location /default { bubble;'
                 . ' bubble_png_compression fast; }');

my $pid = $$;

for my $w (qw(w1 w2)) {
    my $spec = bench_spec($w);
    my %png;

    for my $loc (qw(fast small)) {
        my $r = post_chart("/$loc.png", $spec);
        is($r->{status}, 200, "$w $loc: 200");
        like($r->{headers}{'content-type'} // '', qr{image/png},
             "$w $loc: image/png");
        my $info = png_info($r->{body});
        ok($info->{valid}, "$w $loc: a valid PNG")
            or diag($info->{error});
        $png{$loc} = $r->{body};

        if (system('command -v pngcheck >/dev/null 2>&1') == 0) {
            my $f = "/tmp/025_png_$pid.png";
            open(my $fh, '>:raw', $f) or die $!;
            print $fh $r->{body};
            close $fh;
            is(system("pngcheck -q $f >/dev/null"), 0, "$w $loc: pngcheck");
            unlink $f;
        }
    }

    isnt($png{fast}, $png{small}, "$w: the two encoders wrote other bytes");

    my $a = png_decode($png{fast});
    my $b = png_decode($png{small});
    is($a->{width}, $b->{width}, "$w: same width");
    is($a->{height}, $b->{height}, "$w: same height");
    ok($a->{rgba} eq $b->{rgba}, "$w: identical decoded pixels");
}

# a transparent page: RGBA, unpremultiplied alike
{
    my $spec = bench_spec('w2');
    $spec =~ s/^\{/{"background":"transparent",/;
    my $f = post_chart('/fast.png', $spec);
    my $s = post_chart('/small.png', $spec);
    is($f->{status}, 200, 'transparent: fast 200');
    is($s->{status}, 200, 'transparent: small 200');
    my $a = png_decode($f->{body});
    my $b = png_decode($s->{body});
    ok($a->{rgba} eq $b->{rgba}, 'transparent: identical decoded pixels');
}

stop_nginx($n);

# --- the encoder is part of the ETag and the cache key ---------------------------

{
    my $c = start_nginx(
        http_conf   => 'bubble_zone b:1m; bubble_cache_zone c:4m;',
        server_conf => 'location /fast { bubble; }'
                     . ' location /small { bubble; bubble_png_compression small; }'
                     . ' location = /status { bubble_status; }');
    my $u = '/chart.png?spec=' . join '', map { sprintf '%%%02X', ord }
            split //, bench_spec('w2');
    my (%etag, %body);
    for my $round (1, 2) {
        for my $loc (qw(fast small)) {
            (my $url = $u) =~ s{^/chart}{/$loc/chart};
            my $r = $c->http_request('GET', $url);
            is($r->{status}, 200, "$loc, round $round: 200");
            $etag{$loc}{$round} = $r->{headers}{etag};
            $body{$loc}{$round} = $r->{body};
        }
    }
    isnt($etag{fast}{1}, $etag{small}{1},
         'fast and small PNGs of one chart have different ETags');
    for my $loc (qw(fast small)) {
        is($etag{$loc}{2}, $etag{$loc}{1}, "$loc: the same ETag again");
        ok($body{$loc}{2} eq $body{$loc}{1},
           "$loc: the cache serves the location's own encoder's bytes");
    }
    my $st = json_decode($c->http_request('GET', '/status?format=json')->{body});
    is($st->{cache}{entries}, 2, 'one cache entry per encoder');
}

done_testing();
