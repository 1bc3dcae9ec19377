import { describe, expect, it } from "vitest";
import { isPublicAddress } from "../../handler/audio/address-policy.ts";

describe("address policy for audio URLs", () => {
  it.each([
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "::",
    "::1",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::a00:1", // NAT64 of 10.0.0.1
    "2002:c0a8:101::1", // 6to4 of 192.168.1.1
    "not-an-address",
    "",
  ])("refuses %s", (a) => {
    expect(isPublicAddress(a)).toBe(false);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2a00:1450:4001::200e"])(
    "allows public %s",
    (a) => {
      expect(isPublicAddress(a)).toBe(true);
    },
  );
});
