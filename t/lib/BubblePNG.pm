package BubblePNG;

# A small PNG decoder for probing pixels in tests: 8-bit greyscale, RGB,
# RGBA (colour types 0, 2, 6), not interlaced, all five row filters.
#
#   my $img = png_decode($bytes);            # dies on what it cannot read
#   my ($r, $g, $b, $a) = png_pixel($img, $x, $y);
#
# Pixels are kept as one RGBA byte string, row after row.

use strict;
use warnings;
use Carp;
use Compress::Zlib ();
use Exporter 'import';

our @EXPORT = qw(png_decode png_pixel);

sub png_decode {
    my ($b) = @_;
    croak 'not a PNG' unless defined $b && substr($b, 0, 8) eq "\x89PNG\r\n\x1a\n";
    my ($pos, $idat, %h) = (8, '');
    while ($pos + 12 <= length $b) {
        my ($len, $type) = unpack('N a4', substr($b, $pos, 8));
        my $data = substr($b, $pos + 8, $len);
        if ($type eq 'IHDR') {
            @h{qw(width height depth ctype comp filter interlace)}
                = unpack('N N C C C C C', $data);
        }
        $idat .= $data if $type eq 'IDAT';
        $pos += 12 + $len;
        last if $type eq 'IEND';
    }
    my %channels = (0 => 1, 2 => 3, 6 => 4);
    my $ch = $channels{ $h{ctype} // -1 };
    croak "unsupported PNG: colour type $h{ctype}, depth $h{depth}, "
          . "interlace $h{interlace}"
        unless $ch && $h{depth} == 8 && !$h{interlace};

    my $raw = Compress::Zlib::uncompress($idat);
    croak 'IDAT does not inflate' unless defined $raw;

    my ($w, $hgt) = @h{qw(width height)};
    my $stride = $w * $ch;
    my @prev = (0) x $stride;
    my $rgba = '';
    for my $y (0 .. $hgt - 1) {
        my $off = $y * ($stride + 1);
        my $filter = ord substr($raw, $off, 1);
        my @cur = unpack('C*', substr($raw, $off + 1, $stride));
        for my $i (0 .. $stride - 1) {
            my $a = $i >= $ch ? $cur[$i - $ch] : 0;
            my $u = $prev[$i];
            my $c = $i >= $ch ? $prev[$i - $ch] : 0;
            my $p;
            if    ($filter == 0) { $p = 0 }
            elsif ($filter == 1) { $p = $a }
            elsif ($filter == 2) { $p = $u }
            elsif ($filter == 3) { $p = ($a + $u) >> 1 }
            elsif ($filter == 4) {
                my $e = $a + $u - $c;
                my ($pa, $pb, $pc) = (abs($e - $a), abs($e - $u), abs($e - $c));
                $p = ($pa <= $pb && $pa <= $pc) ? $a : ($pb <= $pc) ? $u : $c;
            } else { croak "row $y: filter type $filter" }
            $cur[$i] = ($cur[$i] + $p) & 0xff;
        }
        my $row = pack('C*', @cur);
        if ($ch == 4) {
            $rgba .= $row;
        } elsif ($ch == 3) {
            $rgba .= pack('(a3 C)*', map { (substr($row, 3 * $_, 3), 255) }
                                         0 .. $w - 1);
        } else {
            $rgba .= pack('(C4)*', map { ($_, $_, $_, 255) } @cur);
        }
        @prev = @cur;
    }
    return { width => $w, height => $hgt, rgba => $rgba };
}

sub png_pixel {
    my ($img, $x, $y) = @_;
    return unpack('C4', substr($img->{rgba}, 4 * ($y * $img->{width} + $x), 4));
}

1;
