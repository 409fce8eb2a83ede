#!/usr/bin/perl
# Rendering through nginx: PNG/SVG/PDF selection (URL extension over the
# "format" field), canvas size and scale, row and column data forms, and
# the shared bench workloads W1-W3.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;

require_module();

my $ngx = start_nginx(server_conf => q{
    location /chart {
        bubble;
    }
});

my $w1 = bench_spec('w1');
my $w2 = bench_spec('w2');
my $w3 = bench_spec('w3');

# Decoded W1 with some fields changed, re-encoded.
sub w1_with {
    my (%set) = @_;
    my $s = json_decode($w1);
    @$s{ keys %set } = values %set;
    return json_encode($s);
}

# Checks a PNG response; returns png_info.
sub png_ok {
    my ($res, $w, $h, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->{status}, 200, "$desc: 200")
        or diag("body: " . substr($res->{body} // '', 0, 300));
    like($res->{headers}{'content-type'} // '', qr{^image/png\s*(;|$)}i,
         "$desc: Content-Type image/png");
    my $i = png_info($res->{body});
    ok($i->{valid}, "$desc: valid PNG (signature, CRCs, IDAT, IEND)")
        or diag('png_info: ' . ($i->{error} // '?'));
    is($i->{width},  $w, "$desc: width $w");
    is($i->{height}, $h, "$desc: height $h");
    ok(!$res->{error}, "$desc: complete response")
        or diag($res->{error});
    return $i;
}

sub svg_ok {
    my ($res, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->{status}, 200, "$desc: 200")
        or diag("body: " . substr($res->{body} // '', 0, 300));
    like($res->{headers}{'content-type'} // '',
         qr{^image/svg\+xml\s*(;|$)}i, "$desc: Content-Type image/svg+xml");
    like($res->{body} // '', qr/\A(?:\xef\xbb\xbf)?\s*<(?:\?xml|svg)\b/,
         "$desc: body starts with <?xml or <svg");
    like($res->{body} // '', qr{</svg>\s*\z}, "$desc: body ends with </svg>");
}

# --- W1: PNG --------------------------------------------------------------

my $r = post_chart('/chart.png', $w1);
png_ok($r, 800, 600, 'W1 /chart.png');

$r = post_chart('/chart', $w1);
png_ok($r, 800, 600, 'W1 /chart (no extension, no format: PNG default)');

# A missing Content-Type is accepted.
$r = http_request('POST', '/chart.png', body => $w1);
png_ok($r, 800, 600, 'W1 without Content-Type');

# Parameters on the content type are fine.
$r = post_chart('/chart.png', $w1,
                headers => { 'Content-Type' => 'application/json; charset=utf-8' });
png_ok($r, 800, 600, 'W1 with application/json; charset=utf-8');

# --- W1: SVG --------------------------------------------------------------

$r = post_chart('/chart.svg', $w1);
svg_ok($r, 'W1 /chart.svg');
like($r->{body} // '', qr/Life expectancy and income/,
     'W1 SVG contains the title text');
like($r->{body} // '', qr/<svg\b[^>]*\swidth="800"/s,
     'W1 SVG root has width="800"');
like($r->{body} // '', qr/<svg\b[^>]*\sheight="600"/s,
     'W1 SVG root has height="600"');
my $w1_svg = $r->{body};

$r = post_chart('/chart', w1_with(format => 'svg'));
svg_ok($r, '"format":"svg" on /chart');
like($r->{body} // '', qr/Life expectancy and income/,
     '"format":"svg" SVG contains the title text');

$r = post_chart('/chart.png', w1_with(format => 'svg'));
png_ok($r, 800, 600, '/chart.png wins over "format":"svg"');

$r = post_chart('/chart.svg', w1_with(format => 'png'));
svg_ok($r, '/chart.svg wins over "format":"png"');

# --- PDF ------------------------------------------------------------------

$r = post_chart('/chart.pdf', $w1);
is($r->{status}, 200, 'W1 /chart.pdf: 200');
like($r->{headers}{'content-type'} // '', qr{^application/pdf\s*(;|$)}i,
     'W1 /chart.pdf: Content-Type application/pdf');
like($r->{body} // '', qr/\A%PDF-\d\.\d/, 'W1 /chart.pdf: body starts %PDF-');
like($r->{body} // '', qr/%%EOF\s*\z/, 'W1 /chart.pdf: body ends with %%EOF');

# vector text in an embedded font, not glyph outlines: poppler reads it
{
    my $pdf = "$ngx->{dir}/w1.pdf";
    open(my $fh, '>:raw', $pdf) or die "$pdf: $!";
    print $fh $r->{body};
    close $fh;

    my $text = `pdftotext -layout '$pdf' - 2>&1`;
    like($text, qr/Life expectancy and income/,
         'W1 PDF: the title is text (pdftotext)');
    like($text, qr/GDP per capita/, 'W1 PDF: the axis title is text');
    like($text, qr/Country 0\d\d/, 'W1 PDF: bubble labels are text');
    like(`pdffonts '$pdf' 2>&1`, qr/DejaVuSans\s.*\byes\s+yes\b/,
         'W1 PDF: DejaVu Sans embedded as a subset (pdffonts)');
    like(`pdfinfo '$pdf' 2>&1`, qr/Page size:\s+600 x 450 pts/,
         'W1 PDF: 800 x 600 CSS px is 600 x 450 pt');
}

$r = post_chart('/chart', w1_with(format => 'pdf'));
like($r->{headers}{'content-type'} // '', qr{^application/pdf\b}i,
     '"format":"pdf" on /chart gives application/pdf');

# --- scale ----------------------------------------------------------------

$r = post_chart('/chart.png', w1_with(scale => 2));
png_ok($r, 1600, 1200, 'W1 scale 2');

$r = post_chart('/chart.svg', w1_with(scale => 2));
like($r->{body} // '', qr/<svg\b[^>]*\swidth="800"/s,
     'SVG of W1 at scale 2 keeps width="800" (CSS pixels)');

# --- W2 ------------------------------------------------------------------

$r = post_chart('/chart.png', $w2);
png_ok($r, 320, 240, 'W2 /chart.png');

# --- row form and column form give the same chart ------------------------

{
    my $cols = json_decode($w2)->{data};
    my @names = sort keys %$cols;
    my $n = scalar @{ $cols->{x} };
    my @rows = map { my $i = $_; +{ map { $_ => $cols->{$_}[$i] } @names } }
        0 .. $n - 1;
    my %base = (width => 320, height => 240, title => 'Same data twice',
                legend => { position => 'none' });
    my $col_spec = json_encode({ %base, data => $cols });
    my $row_spec = json_encode({ %base, data => \@rows });

    my $a = post_chart('/chart.svg', $col_spec);
    my $b = post_chart('/chart.svg', $row_spec);
    my $a2 = post_chart('/chart.svg', $col_spec);
    svg_ok($a, 'column form');
    svg_ok($b, 'row form');
    ok(defined $a->{body} && defined $a2->{body} && $a->{body} eq $a2->{body},
       'the same spec twice gives identical SVG bytes (deterministic)');
    ok(defined $a->{body} && defined $b->{body} && $a->{body} eq $b->{body},
       'column form and row form with the same values give identical SVG')
        or diag('lengths: ' . length($a->{body} // '') . ' vs '
                . length($b->{body} // ''));
    like($a->{body} // '', qr/Same data twice/, 'title in the SVG');
}

# --- W3 (heavy: 5000 bubbles, 1600x1200 at scale 2) ------------------------

$r = post_chart('/chart.png', $w3, timeout => 120);
png_ok($r, 3200, 2400, 'W3 /chart.png');

# The body is ~160 KB: bigger than client_body_buffer_size, so nginx
# buffered it to a temp file; sent slowly in pieces it must work as well.
{
    my $len = length $w3;
    my @parts = map { substr($w3, $_ * int($len / 4), $_ == 3 ? $len
                             : int($len / 4)) } 0 .. 3;
    is(join('', @parts), $w3, 'W3 split into four parts');
    $r = post_chart('/chart.svg', $w3, parts => \@parts, delay => 0.2,
                    timeout => 120);
    svg_ok($r, 'W3 sent slowly in four parts');
    like($r->{body} // '', qr/<svg\b[^>]*\swidth="1600"/s,
         'W3 SVG has width="1600"');
}

# A chunked request body (no Content-Length).
$r = post_chart('/chart.png', $w1, chunked => 4096);
png_ok($r, 800, 600, 'W1 with Transfer-Encoding: chunked');

# --- the workers survived all of it ---------------------------------------

is_deeply([error_log_crashes($ngx)], [], 'no worker exited on a signal');

done_testing();
