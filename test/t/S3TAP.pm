# test/t/S3TAP.pm: what the S3 TAP tests share, against the S3 test server
# of test/lib.sh's start_s3 (s3rver behind the SigV4-checking proxy):
#   aws(ARGS)            the aws CLI (/usr/bin/aws) with the test's credentials
#   download(PREFIX)     the objects under PREFIX into a fresh directory
#   s3_keys(PREFIX)      the keys under PREFIX, sorted
#   duck(SQL)            DuckDB's CSV of SQL (test/s3/duck_query.js)
#   hyparquet(FILES)     hyparquet's CSV of Parquet files (test/s3/hyparquet_read.mjs)
#   proxy(METHOD, PATH[, JSON])  the proxy's admin API (faults, log, uploads)
#   same_text(GOT, WANT, NAME)   one test; shows the first differing line
# S3TAP::init(WORKDIR) first.
package S3TAP;
use strict;
use warnings;
use Test::More;
use Exporter 'import';
use FindBin;
use GeminiTAP;

our @EXPORT_OK = qw(aws download s3_keys duck hyparquet proxy same_text);
our ($s3, $bucket, $work, $root);
my $ndl = 0;

sub init {
  $work = shift;
  $s3 = $ENV{S3_ENDPOINT} or die "S3_ENDPOINT is not set (test/run_all.sh runs start_s3 from test/lib.sh)";
  $bucket = $ENV{S3_BUCKET};
  $root = $ENV{REPO_ROOT} // "$FindBin::Bin/../..";
}

sub run { return GeminiTAP::run(@_); }
sub sq { return GeminiTAP::shell_quote(shift); }

# The aws CLI against the proxy, with the test's credentials file.
sub aws {
  my $args = shift;
  return run("AWS_SHARED_CREDENTIALS_FILE=$ENV{S3_CREDENTIALS_FILE} AWS_CONFIG_FILE=$ENV{S3_AWS_CONFIG_FILE} "
             . "/usr/bin/aws --endpoint-url $s3 $args");
}
# Download a prefix into a fresh directory; returns it.
sub download {
  my $prefix = shift;
  my $dir = "$work/dl" . $ndl++;
  my ($rc, $out) = aws("s3 cp --recursive --only-show-errors s3://$bucket/$prefix $dir");
  die "download of $prefix failed: $out" if $rc;
  return $dir;
}
sub s3_keys {
  my $prefix = shift;
  my ($rc, $out) = aws("s3 ls --recursive s3://$bucket/$prefix");
  return [] if $rc && $out !~ /\S/;
  return [sort map { (split /\s+/, $_)[3] } grep { /\S/ } split /\n/, $out];
}
sub duck {
  my $sql = shift;
  my ($rc, $out) = run("node $root/test/s3/duck_query.js " . sq($sql));
  die "duckdb failed: $out\n$sql" if $rc;
  return $out;
}
sub proxy {
  my ($method, $path, $body) = @_;
  my $cmd = "curl -sS -X $method " . sq("$s3/__proxy/$path");
  $cmd .= " -H 'Content-Type: application/json' --data-binary " . sq($body) if defined $body;
  my ($rc, $out) = run($cmd);
  die "proxy $path: $out" if $rc;
  return $out;
}
# The first line where two texts differ, for a readable failure.
sub same_text {
  my ($got, $want, $name) = @_;
  return pass($name) if $got eq $want;
  my @g = split /\n/, $got;
  my @w = split /\n/, $want;
  for my $i (0 .. ($#g > $#w ? $#g : $#w)) {
    next if ($g[$i] // '<none>') eq ($w[$i] // '<none>');
    fail($name);
    diag("line $i: got  " . ($g[$i] // '<none>') . "\n        want " . ($w[$i] // '<none>')
         . "\n(" . scalar(@g) . " lines against " . scalar(@w) . ")");
    return;
  }
  fail($name);
}

# hyparquet's CSV of Parquet files (an independent reader: shares no code with DuckDB or us).
sub hyparquet {
  my ($rc, $out) = run("node $root/test/s3/hyparquet_read.mjs " . join(' ', map { sq($_) } @_));
  die "hyparquet failed: $out" if $rc;
  return $out;
}

1;
