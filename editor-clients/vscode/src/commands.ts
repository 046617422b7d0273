// The extension's commands and what each does, plus the messages built from server answers.
// No `vscode` import.
//
// The client's ids live under `bowerbird.client.*`: vscode-languageclient registers a VS Code
// command for every command the server lists in `executeCommandProvider` (bowerbird.reindex,
// bowerbird.forget, ...), so the extension's own commands cannot reuse those ids.

import { isObject } from "./settings";

/** What the server offers through `workspace/executeCommand`. */
export const SERVER_COMMANDS = {
    acceptCompletion: "bowerbird.acceptCompletion",
    rejectCompletion: "bowerbird.rejectCompletion",
    reindex: "bowerbird.reindex",
    status: "bowerbird.status",
    forget: "bowerbird.forget",
} as const;

export type ClientAction = "reindex" | "toggleCompletions" | "showOutput" | "forget" | "restart" | "menu";

export interface CommandSpec {
    /** The VS Code command id (package.json `contributes.commands`). */
    id: string;
    /** The palette title, shown as "Bowerbird: <title>". */
    title: string;
    action: ClientAction;
    /** The server command it sends with `workspace/executeCommand`, if any. */
    server?: string;
    /** Asked (modal) before anything is sent; the answer must be `confirmButton`. */
    confirm?: string;
    confirmButton?: string;
}

export const COMMANDS: readonly CommandSpec[] = [
    { id: "bowerbird.client.reindex", title: "Reindex", action: "reindex", server: SERVER_COMMANDS.reindex },
    { id: "bowerbird.client.toggleCompletions", title: "Toggle completions", action: "toggleCompletions" },
    { id: "bowerbird.client.showOutput", title: "Show output", action: "showOutput" },
    {
        id: "bowerbird.client.forget",
        title: "Forget my data",
        action: "forget",
        server: SERVER_COMMANDS.forget,
        confirm: "Delete every completion Bowerbird recorded for you (shown, accepted, rejected)? This cannot be undone.",
        confirmButton: "Forget",
    },
    { id: "bowerbird.client.restart", title: "Restart server", action: "restart" },
    { id: "bowerbird.client.menu", title: "Show menu", action: "menu" },
];

export function commandFor(action: ClientAction): CommandSpec {
    const spec = COMMANDS.find((command) => command.action === action);
    if (spec === undefined) {
        throw new Error(`no command for action ${action}`);
    }
    return spec;
}

export interface MenuItem {
    label: string;
    description?: string;
    command: string;
}

/** The status bar item's quick menu. */
export function menuItems(state: { enabled: boolean; completionsEnabled: boolean; running: boolean }): MenuItem[] {
    const items: MenuItem[] = [];
    if (!state.enabled) {
        items.push({ label: "$(gear) Open Bowerbird's settings", description: "bowerbird.enable is off", command: "settings" });
        items.push({ label: "$(output) Show output", command: commandFor("showOutput").id });
        return items;
    }
    items.push({
        label: state.completionsEnabled ? "$(circle-slash) Turn completions off" : "$(check) Turn completions on",
        description: "bowerbird.completion.enabled",
        command: commandFor("toggleCompletions").id,
    });
    if (state.running) {
        items.push({ label: "$(refresh) Reindex", description: "bring every index up to date", command: commandFor("reindex").id });
    }
    items.push({ label: "$(debug-restart) Restart server", command: commandFor("restart").id });
    items.push({ label: "$(output) Show output", command: commandFor("showOutput").id });
    if (state.running) {
        items.push({ label: "$(trash) Forget my data", description: "delete what was recorded about you", command: commandFor("forget").id });
    }
    items.push({ label: "$(gear) Open Bowerbird's settings", command: "settings" });
    return items;
}

export interface Outcome {
    ok: boolean;
    message: string;
}

/** The message after `bowerbird.forget`, from its answer `{"developer", "removed"}`. */
export function forgetMessage(answer: unknown): Outcome {
    if (!isObject(answer) || typeof answer.removed !== "number" || !Number.isInteger(answer.removed) || answer.removed < 0) {
        return { ok: false, message: `Bowerbird: unexpected answer to ${SERVER_COMMANDS.forget}: ${JSON.stringify(answer) ?? "nothing"}` };
    }
    const who = typeof answer.developer === "string" && answer.developer !== "" ? ` of developer ${answer.developer}` : "";
    const n = answer.removed;
    const what = n === 0 ? "Nothing was recorded" : `Removed ${n.toLocaleString("en-US")} recorded completion${n === 1 ? "" : "s"}`;
    return { ok: true, message: `Bowerbird: ${what}${who}.` };
}

/** The message after `bowerbird.reindex`, from its answer (the server's status). */
export function reindexMessage(answer: unknown): Outcome {
    if (!isObject(answer) || !Array.isArray(answer.roots)) {
        return { ok: false, message: `Bowerbird: unexpected answer to ${SERVER_COMMANDS.reindex}: ${JSON.stringify(answer) ?? "nothing"}` };
    }
    const roots = answer.roots.filter(isObject);
    if (roots.length === 0) {
        return { ok: true, message: "Bowerbird: no workspace folder to index." };
    }
    const files = roots.reduce((sum, root) => sum + (typeof root.files === "number" ? root.files : 0), 0);
    const plural = roots.length === 1 ? "folder" : "folders";
    return { ok: true, message: `Bowerbird: ${roots.length} ${plural} indexed, ${files.toLocaleString("en-US")} files.` };
}

/** Where `Toggle completions` writes: the workspace when it sets the value, else the user settings. */
export function toggleScope(inspected: { workspaceValue?: unknown } | undefined): "workspace" | "global" {
    return inspected?.workspaceValue !== undefined ? "workspace" : "global";
}
