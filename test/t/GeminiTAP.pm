# test/t/GeminiTAP.pm: what the TAP tests share: a throwaway cluster of
# their own (initdb as the postgres user, gemini_etl preloaded), psql, the
# replay server's admin API, and waiting for a condition.
#
#   my $c = GeminiTAP->new_cluster(extra_conf => "...");   # also name => 'src', tz => 'UTC'
#   $c->psql("SELECT 1");  $c->psql($sql, db => 'src');
#   $c->wait_for($label, $sql, $want, $timeout);
#   GeminiTAP::run("$GeminiTAP::BIN/pg_dump " . $c->conn_args . " ...");
#   GeminiTAP::admin('POST', '/t/x/ws', '{...}');
#
# Each cluster has a directory (and socket directory) of its own, so several
# can run at once; every cluster a test made is stopped when it exits.
# Needs REPLAY_URL (test/run_all.sh starts the replay server).  Runs as root:
# the clusters run as postgres.
package GeminiTAP;
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);

our $BIN = '/usr/lib/postgresql/15/bin';

sub run { my $cmd = shift; my $out = `$cmd 2>&1`; return ($? >> 8, $out); }
sub as_pg { my $cmd = shift; return run("runuser -u postgres -- $cmd"); }
sub shell_quote { my $s = shift; $s =~ s/'/'\\''/g; return "'$s'"; }

sub replay_url { return $ENV{REPLAY_URL} // die "REPLAY_URL is not set"; }
sub replay_port { my ($p) = replay_url() =~ /:(\d+)$/; return $p; }

# The replay server's admin API; dies on an error.
sub admin {
  my ($method, $path, $body) = @_;
  my $cmd = "curl -sS --fail-with-body -X $method " . shell_quote(replay_url() . "/_admin$path");
  $cmd .= " -H 'Content-Type: application/json' --data-binary " . shell_quote($body) if defined $body;
  my ($r, $o) = run($cmd);
  die "admin $path failed: $o" if $r;
  return $o;
}

# A new cluster in a temporary directory, started, gemini_etl preloaded.
# Options: extra_conf (lines for postgresql.conf, after the defaults, so they
# win); name (prefixes its tests' names: "src: initdb"); tz (PGTZ of its psql
# sessions).
my @clusters;
sub new_cluster {
  my ($class, %opt) = @_;
  my $dir = tempdir('gemini_tap_XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP_TAP});
  diag("cluster in $dir") if $ENV{KEEP_TAP};
  chmod 0777, $dir;
  my $self = bless { dir => $dir, data => "$dir/data", port => 20000 + int(rand(20000)), tz => $opt{tz} }, $class;
  my $label = defined $opt{name} ? "$opt{name}: " : '';
  my ($rc, $out) = as_pg("$BIN/initdb -D $self->{data} -A trust -U postgres");
  is($rc, 0, "${label}initdb") or diag($out);
  open(my $conf, '>>', "$self->{data}/postgresql.conf") or die;
  print $conf <<"CONF";
port = $self->{port}
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'gemini_etl'
gemini_etl.database_name = 'postgres'
max_worker_processes = 32
restart_after_crash = on
CONF
  print $conf $opt{extra_conf} if $opt{extra_conf};
  close $conf;
  ($rc, $out) = $self->pg_ctl('start');
  is($rc, 0, "${label}server starts") or diag($out);
  push @clusters, $self;
  return $self;
}
# (Before File::Temp removes the directories; $? is the test's exit code.)
END { local $?; as_pg("$BIN/pg_ctl -D $_->{data} -m immediate stop") for @clusters; }

sub pg_ctl {
  my ($self, $a) = @_;
  return as_pg("$BIN/pg_ctl -D $self->{data} -l $self->{dir}/server.log -w $a");
}

# Where client programs find the cluster, as superuser: "-h DIR -p PORT -U postgres".
sub conn_args {
  my $self = shift;
  return "-h $self->{dir} -p $self->{port} -U postgres";
}

sub server_log {
  my $self = shift;
  open(my $fh, '<', "$self->{dir}/server.log") or return '';
  local $/;
  return <$fh>;
}

# Run SQL as the superuser (or as user => ROLE); returns the output, dies on error.
sub psql {
  my ($self, $sql, %opt) = @_;
  my $user = $opt{user} // 'postgres';
  my $db = $opt{db} // 'postgres';
  # stdout only: NOTICEs and WARNINGs (stderr) are not part of the result
  my $err = "$self->{dir}/psql.err";
  my $tz = defined $self->{tz} ? "PGTZ=$self->{tz} " : '';
  my $o = `${tz}psql -X -A -t -q -h $self->{dir} -p $self->{port} -U $user -d $db -v ON_ERROR_STOP=1 -c @{[shell_quote($sql)]} 2>$err`;
  my $r = $? >> 8;
  chomp $o;
  if ($r) { open(my $fh, '<', $err); local $/; my $e = <$fh> // ''; die "psql failed ($sql): $e"; }
  return $o;
}

# Poll $sql until it returns $want (at most $timeout s); one test.
sub wait_for {
  my ($self, $what, $sql, $want, $timeout) = @_;
  my $got = '';
  my $end = time + ($timeout // 60);
  while (time < $end) {
    $got = eval { $self->psql($sql) } // '';
    return is($got, $want, $what) if $got eq $want;
    sleep 0.25;
  }
  return is($got, $want, "$what (timed out)");
}

# Point the cluster's streams (and REST) at namespace $token of the replay server.
sub point_at {
  my ($self, $token, $proto) = @_;
  my $port = replay_port();
  my $path = $proto eq 'v2' ? "/t/$token/v2/marketdata" : "/t/$token/ws?snapshot=-1";
  $self->psql("ALTER SYSTEM SET gemini_etl.ws_url = 'ws://127.0.0.1:$port$path'");
  $self->psql("ALTER SYSTEM SET gemini_etl.api_url = '" . replay_url() . "/t/$token'");
  $self->psql("SELECT pg_reload_conf()");
  sleep 0.3;
}

# The stream's worker pid, once it reports.
sub worker_pid {
  my ($self, $id) = @_;
  return $self->psql("SELECT pid FROM gemini.stream_status WHERE stream_id = $id");
}

# utime + stime of a process, in seconds (/proc/PID/stat).
sub cpu_seconds {
  my $pid = shift;
  open(my $fh, '<', "/proc/$pid/stat") or return undef;
  my $line = <$fh>;
  $line =~ s/^.*\) //;
  my @f = split / /, $line;
  return ($f[11] + $f[12]) / 100.0;    # fields 14 and 15, in clock ticks (100/s)
}

# RssAnon of a process, in kB (/proc/PID/status): its private memory.
sub rss_anon_kb {
  my $pid = shift;
  open(my $fh, '<', "/proc/$pid/status") or return undef;
  while (<$fh>) { return $1 if /^RssAnon:\s+(\d+)/; }
  return undef;
}

# Rows of the replay server's websocket connection log of $token.
sub ws_log {
  my $token = shift;
  require JSON::PP;
  my $rows = JSON::PP->new->decode(admin('GET', "/t/$token/ws/log?format=json"));
  $rows = $rows->{rows} if ref $rows eq 'HASH';
  return $rows;
}

1;
