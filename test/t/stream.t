#!/usr/bin/perl
# test/t/stream.t: the stream worker against the replay server's websocket,
# in a throwaway cluster of its own (so it can be killed and restarted):
#   - a recorded v2 session gives exactly its trades, and a top of book
#     computed here independently from the same frames;
#   - after a forced disconnect, every trade sent is stored exactly once;
#   - malformed frames go to gemini.dead_letters and the stream goes on;
#   - after kill -9 of the worker, and after a server restart, the
#     supervisor resumes the stream with nothing lost or doubled;
#   - after stop, the worker is gone.
# Needs REPLAY_URL (test/run_all.sh starts the replay server). Runs as root:
# the cluster runs as the postgres user.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use FindBin;
use lib $FindBin::Bin;
use GeminiTAP;

$ENV{REPLAY_URL} or plan skip_all => 'REPLAY_URL is not set';
my $fixtures = ($ENV{REPO_ROOT} // '.') . '/test/fixtures';
my $c = GeminiTAP->new_cluster(extra_conf => <<'CONF');
gemini_etl.ws_max_connects_per_minute = 120
gemini_etl.ws_heartbeat_timeout_ms = 4000
CONF
sub psql { return $c->psql(@_); }
sub wait_for { return $c->wait_for(@_); }
sub admin { return GeminiTAP::admin(@_); }

psql('CREATE EXTENSION gemini_etl');

# ---------------------------------------------------------------------------
# 1. A recorded v2 session: exactly its trades, and the top of book.
# ---------------------------------------------------------------------------
my @symbols = qw(ALCXUSD GRTUSD ANKRUSD BTCGBP);
my %want = map { $_ => 1 } @symbols;
my (%trades, %book);
open(my $fh, '<', "$fixtures/v2_marketdata_l2_session_2021-06-23.jsonl") or die $!;
my $json = JSON::PP->new;
while (my $line = <$fh>) {
  my $m = eval { $json->decode($line) } or next;
  next unless ($m->{type} // '') =~ /^(l2_updates|trade)$/ && $want{$m->{symbol} // ''};
  my $s = $m->{symbol};
  my @t = $m->{type} eq 'trade' ? ($m) : @{ $m->{trades} // [] };
  $trades{"$s/$_->{event_id}"} = "$_->{price}/$_->{quantity}/$_->{side}" for @t;
  if ($m->{type} eq 'l2_updates') {
    my $snapshot = exists $m->{trades} || exists $m->{auction_events};
    $book{$s} = { buy => {}, sell => {} } if $snapshot;
    next unless $book{$s};
    for my $c (@{ $m->{changes} }) {
      my ($side, $price, $qty) = @$c;
      if ($qty + 0 == 0) { delete $book{$s}{$side}{$price}; } else { $book{$s}{$side}{$price} = $qty; }
    }
  }
}
close $fh;
admin('POST', '/t/rec/config', '{"recorded": true}');
admin('POST', '/t/rec/ws', '{"mode": "recorded", "session": "2021-06-23", "speed": 0}');
$c->point_at('rec', 'v2');
my $s1 = psql("SELECT gemini_stream_start('{" . join(',', @symbols) . "}')");
ok($s1 > 0, "stream $s1 started");
wait_for('recorded session: every trade stored', "SELECT count(*) FROM gemini.trades", scalar(keys %trades), 60);
my %stored = map { my @f = split /\|/; ("$f[0]/$f[1]" => "$f[2]/$f[3]/$f[4]") }
  split /\n/, psql("SELECT symbol, tid, price, amount, side FROM gemini.trades");
is_deeply(\%stored, \%trades, 'recorded session: exactly the session\'s trades, exact decimals');
for my $s (@symbols) {
  next unless $book{$s};
  my ($bid) = sort { $b <=> $a } keys %{ $book{$s}{buy} };
  my ($ask) = sort { $a <=> $b } keys %{ $book{$s}{sell} };
  wait_for("top of book of $s", "SELECT bid = $bid AND bid_size = $book{$s}{buy}{$bid} AND ask = $ask AND ask_size = $book{$s}{sell}{$ask} FROM gemini.top_of_book WHERE symbol = '$s'", 't', 30);
}
is(psql("SELECT count(*) FROM gemini.dead_letters"), '0', 'recorded session: no dead letters');
is(psql("SELECT gemini_stream_stop($s1)"), '1', 'stop returns 1');
wait_for('after stop, the worker is gone', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream'", '0', 10);
is(psql("SELECT state FROM gemini.stream_status WHERE stream_id = $s1"), 'stopped', 'status says stopped');

# ---------------------------------------------------------------------------
# 2. Generated stream with a forced disconnect and malformed frames.
# ---------------------------------------------------------------------------
sub sent_tids {
  my $token = shift;
  my %t;
  for my $l (split /\n/, admin('GET', "/t/$token/ws/sent?format=csv")) {
    my @f = split /,/, $l;
    $t{$f[2]} = 1 if $f[2] && $f[2] =~ /^\d+$/;
  }
  return \%t;
}
sub check_all_sent_stored {
  my ($token, $symbol, $label) = @_;
  my $sent = sent_tids($token);
  my $n = scalar keys %$sent;
  ok($n > 0, "$label: the server sent $n trades");
  my $missing = 1;
  my $end = time + 60;
  while (time < $end) {
    my %have = map { $_ => 1 } split /\n/, psql("SELECT tid FROM gemini.trades WHERE symbol = '$symbol'");
    $missing = grep { !$have{$_} } keys %$sent;
    last if !$missing;
    sleep 0.5;
  }
  is($missing, 0, "$label: every trade sent is stored");
  is(psql("SELECT count(*) - count(DISTINCT tid) FROM gemini.trades WHERE symbol = '$symbol'"), '0',
     "$label: none stored twice");
  # stored first, then the truth: the server may still be sending
  my %have = map { $_ => 1 } split /\n/, psql("SELECT tid FROM gemini.trades WHERE symbol = '$symbol'");
  my $truth = admin('GET', "/t/$token/truth/$symbol?format=csv");
  my %truth = map { (split /,/)[0] => 1 } grep { /^\d/ } split /\n/, $truth;
  my @extra = grep { !$truth{$_} } keys %have;
  is(scalar(@extra), 0, "$label: every stored trade is in the ground truth") or diag("not in truth: @extra[0 .. ($#extra < 4 ? $#extra : 4)]");
}

admin('POST', '/t/gen/config', '{"recorded": false, "datasets": {"GENUSD": {"count": 500, "seed": 4, "start": "2026-11-01T00:00:00Z", "span_seconds": 600}}}');
admin('POST', '/t/gen/ws', '{"mode": "generated", "rate": 400, "count": 2000, "seed": 4, "faults": [{"kind": "drop", "after": 600}, {"kind": "malformed", "at": [100, 900]}]}');
$c->point_at('gen', 'v2');
psql("INSERT INTO gemini.watermarks (symbol, last_tid) SELECT 'GENUSD', 0");   # backfill from the start
my $s2 = psql("SELECT gemini_stream_start('{GENUSD}')");
wait_for('generated: reconnected after the drop', "SELECT reconnects >= 1 FROM gemini.stream_status WHERE stream_id = $s2", 't', 60);
my $end = time + 60;
while (time < $end) {
  my $events = 0; $events += ($_->{events_sent} // 0) for @{ GeminiTAP::ws_log('gen') };
  last if $events >= 2000;
  sleep 0.5;
}
check_all_sent_stored('gen', 'GENUSD', 'after a forced disconnect');
{
  my $malformed = 0; $malformed += ($_->{malformed_sent} // 0) for @{ GeminiTAP::ws_log('gen') };
  ok($malformed > 0, "the server sent $malformed malformed frames");
  wait_for('each malformed frame was dead-lettered', "SELECT dead_letters FROM gemini.stream_status WHERE stream_id = $s2", "$malformed", 10);
}
like(psql("SELECT string_agg(DISTINCT left(reason, 40), '; ') FROM gemini.dead_letters WHERE stream_id = $s2"), qr/\w/, 'dead letters carry a reason');
is(psql("SELECT state FROM gemini.stream_status WHERE stream_id = $s2"), 'streaming', 'the stream goes on');
wait_for('computed candles agree with the trades table (recomputed within a second)', "SELECT count(*) FROM gemini.candles c,
     LATERAL (SELECT (array_agg(price ORDER BY traded_at, tid))[1] AS o, max(price) AS h, min(price) AS l,
                     (array_agg(price ORDER BY traded_at DESC, tid DESC))[1] AS cl, sum(amount) AS v
                FROM gemini.trades t WHERE t.symbol = c.symbol AND NOT t.broken
                 AND date_trunc('minute', t.traded_at, 'UTC') = c.bucket_start) m
    WHERE c.symbol = 'GENUSD' AND c.source = 'computed'
      AND (c.open, c.high, c.low, c.close, c.volume) IS DISTINCT FROM (m.o, m.h, m.l, m.cl, m.v)",
   '0', 10);
wait_for('every minute with stored trades has its computed candle', "SELECT count(*)
     FROM (SELECT DISTINCT date_trunc('minute', traded_at, 'UTC') AS b FROM gemini.trades
            WHERE symbol = 'GENUSD' AND NOT broken) m
    WHERE NOT EXISTS (SELECT 1 FROM gemini.candles c
                       WHERE c.symbol = 'GENUSD' AND c.source = 'computed' AND c.bucket_start = m.b)",
   '0', 10);

# ---------------------------------------------------------------------------
# 3. kill -9 of the worker, then a server restart: the supervisor resumes.
# ---------------------------------------------------------------------------
admin('POST', '/t/gen/ws', '{"mode": "generated", "rate": 400, "count": 4000, "seed": 5}');
psql("SELECT gemini_stream_stop($s2)");
wait_for('old worker gone', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream'", '0', 10);
my $s3 = psql("SELECT gemini_stream_start('{GENUSD}')");
wait_for('stream 3 streaming', "SELECT state FROM gemini.stream_status WHERE stream_id = $s3", 'streaming', 30);
sleep 2;
my $pid = $c->worker_pid($s3);
ok($pid, "worker pid $pid");
kill 'KILL', $pid;
sleep 1;
wait_for('after kill -9 the supervisor restarts the stream',
  "SELECT state = 'streaming' AND pid <> $pid FROM gemini.stream_status WHERE stream_id = $s3", 't', 60);
sleep 2;
my ($rc, $out) = $c->pg_ctl('-m fast restart');
is($rc, 0, 'server restarts') or diag($out);
wait_for('after a restart the stream resumes',
  "SELECT state FROM gemini.stream_status WHERE stream_id = $s3", 'streaming', 60);
check_all_sent_stored('gen', 'GENUSD', 'after kill -9 and a restart');
is(psql("SELECT gemini_stream_stop()"), '1', 'stop all');
wait_for('after stop, no worker', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'gemini_etl stream'", '0', 10);

# ---------------------------------------------------------------------------
# 4. Gemini's new WebSocket API: trades and depth with update ids; a gap in
#    the ids forces a resync (reconnect, fresh snapshot, backfill).
# ---------------------------------------------------------------------------
admin('POST', '/t/newapi/config', '{"recorded": false, "datasets": {"NEWUSD": {"count": 300, "seed": 8, "start": "2026-11-01T00:00:00Z", "span_seconds": 600}}}');
admin('POST', '/t/newapi/ws', '{"mode": "generated", "rate": 400, "count": 1500, "seed": 8, "faults": [{"kind": "gap", "at": 400}]}');
$c->point_at('newapi', 'new');
my $s4 = psql("SELECT gemini_stream_start('{NEWUSD}')");
is(psql("SELECT protocol FROM gemini.streams WHERE stream_id = $s4"), 'new', 'the URL selects the new API');
wait_for('new API: the gap forced a resync', "SELECT reconnects >= 1 AND last_error LIKE '%gap%' FROM gemini.stream_status WHERE stream_id = $s4", 't', 60);
check_all_sent_stored('newapi', 'NEWUSD', 'new API with a gap');
wait_for('new API: top of book from the depth stream', "SELECT bid IS NOT NULL AND ask IS NOT NULL AND bid < ask FROM gemini.top_of_book WHERE symbol = 'NEWUSD'", 't', 20);
is(psql("SELECT count(*) FROM gemini.book_changes WHERE symbol = 'NEWUSD' AND update_id IS NOT NULL") > 0 ? 1 : 0, 1, 'new API: book changes carry update ids');
is(psql("SELECT gemini_stream_stop($s4)"), '1', 'new API stream stopped');

$c->pg_ctl('-m fast stop');
done_testing();
