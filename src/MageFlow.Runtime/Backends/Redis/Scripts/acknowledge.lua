-- Acknowledges an entry without any state change (malformed entries).
-- KEYS[1] stream; ARGV[1] consumer group, ARGV[2] entry id
acknowledge(KEYS[1], ARGV[1], ARGV[2])
return 1
