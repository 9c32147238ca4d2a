import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeFailure } from "../../src/cli/main.js";
import { HoldfastError } from "../../src/errors.js";

describe("what the CLI prints when a command fails", () => {
  it("prints an escaped zod error as one line per problem, never the dump", () => {
    const schema = z.object({
      routes: z.array(z.object({ dst: z.string().regex(/\//, "expected a CIDR") })),
    });
    const parsed = schema.safeParse({ routes: [{ dst: "169.254.169.254" }, { dst: 7 }] });
    expect(parsed.success).toBe(false);
    const text = describeFailure(parsed.error);
    expect(text).toBe(
      [
        "holdfast: invalid data",
        "  routes[0].dst: expected a CIDR",
        "  routes[1].dst: Invalid input: expected string, received number",
      ].join("\n"),
    );
    expect(text, "no JSON issue dump").not.toMatch(/"path"|"message"|\[\s*{/);
  });

  it("a HoldfastError prints its message and detail lines", () => {
    const error = new HoldfastError("refusing to write an invalid cache entry", {
      code: "failure",
      subject: "/var/lib/holdfast/pn0.json",
      details: ['routes[0].dst: expected an IPv4 CIDR like "172.16.0.2/22", got "x"'],
    });
    expect(describeFailure(error)).toBe(
      "holdfast: refusing to write an invalid cache entry: /var/lib/holdfast/pn0.json\n" +
        '  routes[0].dst: expected an IPv4 CIDR like "172.16.0.2/22", got "x"',
    );
  });

  it("any other error prints its message on one line after holdfast:", () => {
    expect(describeFailure(new Error("pn0: no such interface"))).toBe("holdfast: pn0: no such interface");
  });
});
