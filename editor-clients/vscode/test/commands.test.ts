import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMMANDS, SERVER_COMMANDS, commandFor, forgetMessage, menuItems, reindexMessage, toggleScope } from "../src/commands";

describe("the command table", () => {
    it("wires each client command to its server command", () => {
        assert.deepEqual(
            COMMANDS.map((c) => [c.id, c.action, c.server]),
            [
                ["bowerbird.client.reindex", "reindex", "bowerbird.reindex"],
                ["bowerbird.client.toggleCompletions", "toggleCompletions", undefined],
                ["bowerbird.client.showOutput", "showOutput", undefined],
                ["bowerbird.client.forget", "forget", "bowerbird.forget"],
                ["bowerbird.client.restart", "restart", undefined],
                ["bowerbird.client.menu", "menu", undefined],
            ],
        );
    });

    it("never reuses a server command id (vscode-languageclient registers those)", () => {
        const server = new Set<string>(Object.values(SERVER_COMMANDS));
        for (const command of COMMANDS) {
            assert.equal(server.has(command.id), false, command.id);
        }
        assert.equal(new Set(COMMANDS.map((c) => c.id)).size, COMMANDS.length);
    });

    it("asks before forgetting", () => {
        const forget = commandFor("forget");
        assert.ok(forget.confirm && forget.confirm.length > 0);
        assert.equal(forget.confirmButton, "Forget");
    });

    it("sends only commands the server has", () => {
        const server = new Set<string>(Object.values(SERVER_COMMANDS));
        for (const command of COMMANDS.filter((c) => c.server !== undefined)) {
            assert.ok(server.has(command.server as string), command.id);
        }
    });
});

describe("forgetMessage", () => {
    it("says how many records were removed, and whose", () => {
        assert.deepEqual(forgetMessage({ developer: "ana", removed: 1234 }), { ok: true, message: "Bowerbird: Removed 1,234 recorded completions of developer ana." });
        assert.deepEqual(forgetMessage({ developer: "ana", removed: 1 }), { ok: true, message: "Bowerbird: Removed 1 recorded completion of developer ana." });
        assert.deepEqual(forgetMessage({ developer: "ana", removed: 0 }), { ok: true, message: "Bowerbird: Nothing was recorded of developer ana." });
        assert.deepEqual(forgetMessage({ removed: 2 }), { ok: true, message: "Bowerbird: Removed 2 recorded completions." });
    });

    it("reports an answer it cannot read", () => {
        for (const bad of [undefined, null, 3, "done", [], {}, { removed: "3" }, { removed: -1 }, { removed: 1.5 }, { developer: "ana" }]) {
            const outcome = forgetMessage(bad);
            assert.equal(outcome.ok, false, JSON.stringify(bad));
            assert.match(outcome.message, /unexpected answer to bowerbird\.forget/);
        }
        assert.equal(forgetMessage(undefined).message, "Bowerbird: unexpected answer to bowerbird.forget: nothing");
    });
});

describe("reindexMessage", () => {
    it("counts folders and files", () => {
        assert.deepEqual(reindexMessage({ roots: [{ files: 1000, indexed: true }, { files: 234 }] }), { ok: true, message: "Bowerbird: 2 folders indexed, 1,234 files." });
        assert.deepEqual(reindexMessage({ roots: [{ root: "/r" }] }), { ok: true, message: "Bowerbird: 1 folder indexed, 0 files." });
        assert.deepEqual(reindexMessage({ roots: [] }), { ok: true, message: "Bowerbird: no workspace folder to index." });
    });

    it("reports an answer without roots", () => {
        assert.equal(reindexMessage(null).ok, false);
        assert.equal(reindexMessage({ roots: "x" }).ok, false);
        assert.equal(reindexMessage({ roots: ["x", 3] }).message, "Bowerbird: no workspace folder to index.");
    });
});

describe("menuItems", () => {
    const commands = (items: { command: string }[]) => items.map((i) => i.command);

    it("offers everything while the server runs", () => {
        const items = menuItems({ enabled: true, completionsEnabled: true, running: true });
        assert.deepEqual(commands(items), [
            "bowerbird.client.toggleCompletions", "bowerbird.client.reindex", "bowerbird.client.restart",
            "bowerbird.client.showOutput", "bowerbird.client.forget", "settings",
        ]);
        assert.match(items[0].label, /Turn completions off/);
    });

    it("offers to turn completions on when they are off", () => {
        assert.match(menuItems({ enabled: true, completionsEnabled: false, running: true })[0].label, /Turn completions on/);
    });

    it("leaves out what needs a server when none runs", () => {
        assert.deepEqual(commands(menuItems({ enabled: true, completionsEnabled: true, running: false })), [
            "bowerbird.client.toggleCompletions", "bowerbird.client.restart", "bowerbird.client.showOutput", "settings",
        ]);
    });

    it("offers the settings when the extension is turned off", () => {
        assert.deepEqual(commands(menuItems({ enabled: false, completionsEnabled: true, running: false })), ["settings", "bowerbird.client.showOutput"]);
    });
});

describe("toggleScope", () => {
    it("writes where the value comes from", () => {
        assert.equal(toggleScope({ workspaceValue: false }), "workspace");
        assert.equal(toggleScope({ workspaceValue: undefined }), "global");
        assert.equal(toggleScope({}), "global");
        assert.equal(toggleScope(undefined), "global");
    });
});
