#!/usr/bin/perl
# The R client (clients/r/bubble.R) against the module: its URLs are
# tools/bubble-url's, they render, and ggplots converted with
# bubble_from_ggplot() show ggplot2's breaks and legend entries.  The
# checks are in tests/r/test_client.R (TAP); this starts nginx for them.
# Needs Rscript with ggplot2, jsonlite, curl, openssl (make deps).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;

require_module();

my $root = $ENV{BUBBLE_ROOT} // "$FindBin::Bin/..";
my $secret = 'r-client-secret-0123456789';

my $ngx = start_nginx(server_conf => qq{
    location /chart {
        bubble;
    }
    location /signed {
        bubble;
        bubble_url_secret $secret;
    }
});

my $base = "http://127.0.0.1:$ngx->{port}";

# the R script reads relative paths (clients/r, examples, tools, ../shared)
chdir $root or die "chdir $root: $!";
# UTF-8 strings (CJK test data) whatever the caller's locale
$ENV{LC_ALL} = 'C.UTF-8';
open(my $r, '-|', 'Rscript', 'tests/r/test_client.R', "$base/chart",
     "$base/signed", $secret)
    or die "Rscript: $!";

my ($seen, $planned) = (0, undef);
while (my $line = <$r>) {
    chomp $line;
    if ($line =~ /^(not )?ok \d+ - (.*)$/) {
        ok(!defined $1, "R: $2");
        $seen++;
    } elsif ($line =~ /^1\.\.(\d+)$/) {
        $planned = $1;
    } else {
        diag($line);
    }
}
close $r;
my $rc = $? >> 8;

ok($seen >= 100, "the R tests ran ($seen checks)");
is($planned, $seen, 'the R script finished its plan');
is($rc, 0, 'Rscript exited 0');
is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');

done_testing();
