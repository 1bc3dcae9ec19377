// The content type of stored audio bytes, from their first bytes (the queue keeps no file name
// or type): what an <audio> element needs to play them. Unknown formats are sent as
// application/octet-stream with nosniff, so a browser never guesses them into something active.
const SIGNATURES: Array<[type: string, test: (b: Buffer) => boolean]> = [
  ["audio/ogg", (b) => b.subarray(0, 4).toString("latin1") === "OggS"],
  ["audio/wav", (b) => b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WAVE"],
  ["audio/flac", (b) => b.subarray(0, 4).toString("latin1") === "fLaC"],
  ["audio/webm", (b) => b.length >= 4 && b.readUInt32BE(0) === 0x1a45dfa3],
  ["audio/mp4", (b) => b.subarray(4, 8).toString("latin1") === "ftyp"],
  ["audio/amr", (b) => b.subarray(0, 5).toString("latin1") === "#!AMR"],
  ["audio/mpeg", (b) => b.subarray(0, 3).toString("latin1") === "ID3" || (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0)],
];

export function audioContentType(bytes: Buffer): string {
  for (const [type, test] of SIGNATURES) if (test(bytes)) return type;
  return "application/octet-stream";
}
