import { describe, expect, it } from "vitest";
import { agentOnlyArgs } from "../../src/cli/agent-args.js";

describe("which command lines start the agent without commander", () => {
  it.each([
    [["agent"], undefined],
    [["agent", "--config", "/etc/holdfast/holdfast.yaml"], "/etc/holdfast/holdfast.yaml"],
    [["agent", "-c", "x.yaml"], "x.yaml"],
    [["agent", "--config=x.yaml"], "x.yaml"],
  ])("%j runs the agent with config %j", (argv, config) => {
    expect(agentOnlyArgs(argv), JSON.stringify(argv)).toEqual({ config });
  });

  it.each([
    [[]],
    [["status"]],
    [["agent", "--help"]],
    [["agent", "-c"]],
    [["agent", "--config"]],
    [["agent", "--config="]],
    [["agent", "--config", "--help"]],
    [["agent", "-cx.yaml"]],
    [["agent", "--config", "a", "extra"]],
    [["--version", "agent"]],
  ])("%j is left to commander", (argv) => {
    expect(agentOnlyArgs(argv), JSON.stringify(argv)).toBeUndefined();
  });
});
