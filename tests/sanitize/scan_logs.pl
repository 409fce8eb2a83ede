#!/usr/bin/perl
# Scan the ASan/LSan/UBSan logs of a sanitizer run (make test-sanitize):
#
#   perl tests/sanitize/scan_logs.pl DIR
#
# DIR holds asan.<pid> and ubsan.<pid> files, one per nginx process that
# had something to say.  Counts ASan errors, UBSan runtime errors and LSan
# leak records, and attributes each leak to the module when a frame of its
# allocation stack is in the module (ngx_http_bubble_*, bubble_*, or
# ngx_http_bubble_module.so).  Exits 1 on any ASan or UBSan error and on
# any leak of the module; leaks of nginx itself or of libraries (one-time
# caches not covered by tests/fuzz/lsan.supp) are listed, not failed.

use strict;
use warnings;

my $dir = shift or die "usage: $0 LOG_DIR\n";
opendir my $dh, $dir or die "$dir: $!\n";
my @files = sort grep { /^(asan|ubsan)\./ } readdir $dh;
closedir $dh;

my (@asan, @ubsan, @leaks);

for my $f (@files) {
    open my $fh, '<', "$dir/$f" or die "$dir/$f: $!\n";
    my @lines = <$fh>;
    close $fh;
    my $pid = ($f =~ /\.(\d+)$/)[0] // '?';

    my $leak;
    for my $l (@lines) {
        if ($l =~ /ERROR: AddressSanitizer: (.*)/) {
            push @asan, "pid $pid: $1";
        } elsif ($l =~ /runtime error: (.*)/) {
            my $where = $l =~ /^(\S+:\d+:\d+):/ ? $1 : '';
            push @ubsan, "pid $pid: $where $1";
        } elsif ($l =~ /^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+)/) {
            $leak = { pid => $pid, kind => $1, bytes => $2, objects => $3,
                      frames => [] };
            push @leaks, $leak;
        } elsif ($leak && $l =~ /^\s+#\d+ 0x[0-9a-f]+ (.*)/) {
            push @{ $leak->{frames} }, $1;
        } elsif ($l =~ /^\s*$/) {
            $leak = undef;
        }
    }
}

my $ours = qr/\bngx_http_bubble_|\bbubble_|ngx_http_bubble_module\.so/;
my @module = grep { grep { /$ours/ } @{ $_->{frames} } } @leaks;
my @other  = grep { !grep { /$ours/ } @{ $_->{frames} } } @leaks;

sub sum { my $s = 0; $s += $_->{bytes} for @_; $s }

printf "sanitizer logs: %d file(s) in %s\n", scalar @files, $dir;
printf "  ASan errors:            %d\n", scalar @asan;
print  "    $_\n" for @asan;
printf "  UBSan runtime errors:   %d\n", scalar @ubsan;
my %u;
$u{$_}++ for map { s/^pid \d+: //r } @ubsan;
print  "    $_ (x$u{$_})\n" for sort keys %u;
printf "  leaks of the module:    %d (%d bytes)\n", scalar @module,
       sum(@module);
for my $l (@module) {
    print "    $l->{kind} $l->{bytes} bytes in $l->{objects} object(s), "
        . "pid $l->{pid}:\n";
    my @f = @{ $l->{frames} };
    print "      $_\n" for @f[0 .. ($#f < 11 ? $#f : 11)];
}
printf "  other leaks (nginx, libraries): %d (%d bytes)\n", scalar @other,
       sum(@other);
my %top;
for my $l (@other) {
    my ($f) = grep { !/malloc|calloc|realloc|strdup|memalign|interceptor/ }
              @{ $l->{frames} };
    $top{ ($f // '?') =~ s/\s*\(BuildId.*//r }++;
}
my @top = sort { $top{$b} <=> $top{$a} || $a cmp $b } keys %top;
print "    $_ (x$top{$_})\n" for @top[0 .. ($#top < 9 ? $#top : 9)];

my $fail = @asan || @ubsan || @module;
print $fail ? "sanitizers: FAIL\n" : "sanitizers: OK (0 errors, 0 module leaks)\n";
exit($fail ? 1 : 0);
