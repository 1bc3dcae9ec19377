// Integration tier: real redis-server, ffmpeg, the sidecar on the test double, HTTP peers; no whole
// worker process (test/tiers/guard.ts refuses one).
import { enterTier } from "./guard.ts";

enterTier("integration");
