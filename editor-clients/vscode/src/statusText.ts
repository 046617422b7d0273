// The status bar item's text and tooltip, from the server's `bowerbird.status` answer and the
// progress in flight. No `vscode` import.

import type { ProgressEntry } from "./progress";
import { isObject } from "./settings";

export interface RootStatus {
    root: string;
    name: string;
    files?: number;
    symbols?: number;
    indexed: boolean;
    lastRunSeconds?: number;
}

export interface ModelStatus {
    loaded: boolean;
    name?: string;
    device?: string;
    error?: string;
}

export interface ServerStatus {
    version?: string;
    roots: RootStatus[];
    model: ModelStatus;
    backend?: string;
    completions: { count: number; p50?: number; p95?: number };
}

export type ServerState = "starting" | "running" | "stopped" | "failed";

export interface ClientState {
    /** `bowerbird.enable`. */
    enabled: boolean;
    /** `bowerbird.completion.enabled`. */
    completionsEnabled: boolean;
    server: ServerState;
    progress: readonly ProgressEntry[];
    /** The last `bowerbird.status` answer, as received; undefined before the first. */
    status?: unknown;
    /** Why the server is not running (start failure, crash). */
    error?: string;
    /** The server's command line, for the tooltip. */
    commandLine?: string;
}

export type StatusLevel = "ok" | "busy" | "info" | "warning" | "error" | "off";

export interface StatusView {
    text: string;
    tooltip: string;
    level: StatusLevel;
}

function str(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" ? value : undefined;
}

function num(value: unknown): number | undefined {
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The last path component of a file-system path or model id ("a/b/code-lm" -> "code-lm"). */
export function baseName(path: string): string {
    const parts = path.split(/[\\/]+/).filter((part) => part !== "");
    return parts.length > 0 ? parts[parts.length - 1] : path;
}

/** The server's status answer, read defensively: missing or mistyped fields get safe values. */
export function parseStatus(raw: unknown): ServerStatus {
    const status = isObject(raw) ? raw : {};
    const roots: RootStatus[] = [];
    if (Array.isArray(status.roots)) {
        for (const entry of status.roots) {
            if (!isObject(entry)) {
                continue;
            }
            const root = str(entry.root) ?? "?";
            const lastRun = isObject(entry.last_run) ? entry.last_run : undefined;
            roots.push({
                root,
                name: baseName(root),
                files: num(entry.files),
                symbols: num(entry.symbols),
                indexed: entry.indexed === true,
                lastRunSeconds: lastRun ? num(lastRun.seconds) : undefined,
            });
        }
    }
    const model = isObject(status.model) ? status.model : {};
    const options = isObject(status.options) ? status.options : {};
    const completionOptions = isObject(options.completion) ? options.completion : {};
    const completions = isObject(status.completions) ? status.completions : {};
    const timings = isObject(completions.timings_ms) ? completions.timings_ms : {};
    const total = isObject(timings.total) ? timings.total : {};
    return {
        version: str(status.version),
        roots,
        model: { loaded: model.loaded === true, name: str(model.name), device: str(model.device), error: str(model.error) },
        backend: str(completionOptions.backend),
        completions: { count: num(completions.count) ?? 0, p50: num(total.p50), p95: num(total.p95) },
    };
}

function progressLabel(entry: ProgressEntry): string {
    return entry.percentage === undefined ? entry.title : `${entry.title} ${entry.percentage}%`;
}

function count(value: number | undefined, unit: string): string {
    return value === undefined ? `? ${unit}` : `${value.toLocaleString("en-US")} ${unit}`;
}

function tooltipLines(state: ClientState, status: ServerStatus | undefined): string[] {
    const lines: string[] = [];
    const version = status?.version ? ` ${status.version}` : "";
    const serverState = {
        starting: "starting",
        running: "running",
        stopped: "stopped",
        failed: "not running",
    }[state.server];
    lines.push(`Bowerbird${version}: server ${serverState}`);
    if (state.error) {
        lines.push(`Error: ${state.error}`);
    }
    if (state.commandLine) {
        lines.push(`Command: ${state.commandLine}`);
    }
    lines.push(`Completions: ${state.completionsEnabled ? "on" : "off"}${status?.backend ? ` (${status.backend} backend)` : ""}`);
    if (status) {
        const model = status.model;
        const name = model.name ?? "no model";
        const device = model.device ? ` on ${model.device}` : "";
        if (model.error) {
            lines.push(`Model: ${name}${device}, failed: ${model.error}`);
        } else {
            lines.push(`Model: ${name}${device}, ${model.loaded ? "loaded" : "not loaded yet"}`);
        }
        if (status.roots.length === 0) {
            lines.push("Index: no workspace folder (open a folder: Bowerbird completes files inside one)");
        }
        for (const root of status.roots) {
            const state = root.indexed ? "indexed" : "indexing";
            const seconds = root.lastRunSeconds !== undefined ? ` in ${root.lastRunSeconds} s` : "";
            lines.push(`Index: ${root.name}: ${count(root.files, "files")}, ${count(root.symbols, "symbols")}, ${state}${root.indexed ? seconds : ""}`);
        }
        const c = status.completions;
        const timing = c.p50 !== undefined && c.p95 !== undefined ? `, total p50 ${c.p50} ms, p95 ${c.p95} ms` : "";
        lines.push(`Completions served: ${c.count}${timing}`);
    }
    for (const entry of state.progress) {
        lines.push(`In progress: ${progressLabel(entry)}${entry.message ? ` (${entry.message})` : ""}`);
    }
    lines.push("Click for Bowerbird's menu.");
    return lines;
}

/** The status bar item for a state: the first matching case wins, most urgent first. */
export function statusView(state: ClientState): StatusView {
    if (!state.enabled) {
        return { text: "$(circle-slash) Bowerbird", tooltip: "Bowerbird is turned off (setting bowerbird.enable).\nClick for Bowerbird's menu.", level: "off" };
    }
    const status = state.status === undefined ? undefined : parseStatus(state.status);
    const tooltip = tooltipLines(state, status).join("\n");
    if (state.server === "failed" || state.server === "stopped") {
        return { text: "$(error) Bowerbird", tooltip, level: "error" };
    }
    if (state.server === "starting") {
        return { text: "$(sync~spin) Bowerbird", tooltip, level: "busy" };
    }
    if (state.progress.length > 0) {
        const more = state.progress.length > 1 ? ` +${state.progress.length - 1}` : "";
        return { text: `$(sync~spin) Bowerbird: ${progressLabel(state.progress[0])}${more}`, tooltip, level: "busy" };
    }
    if (status === undefined) {
        return { text: "$(sync~spin) Bowerbird", tooltip, level: "busy" };
    }
    if (status.roots.some((root) => !root.indexed)) {
        return { text: "$(sync~spin) Bowerbird: indexing", tooltip, level: "busy" };
    }
    if (status.model.error && state.completionsEnabled) {
        return { text: "$(warning) Bowerbird: no model", tooltip, level: "warning" };
    }
    if (!state.completionsEnabled) {
        return { text: "$(circle-slash) Bowerbird: completions off", tooltip, level: "off" };
    }
    if (status.roots.length === 0) {
        return { text: "$(info) Bowerbird: no folder", tooltip, level: "info" };
    }
    if (!status.model.loaded) {
        return { text: "$(sync~spin) Bowerbird: loading model", tooltip, level: "busy" };
    }
    const model = status.model.name ? `: ${baseName(status.model.name)}` : "";
    return { text: `$(check) Bowerbird${model}`, tooltip, level: "ok" };
}

/** Whether the server is still getting ready (so the status is worth asking for again soon). */
export function settling(state: ClientState): boolean {
    if (!state.enabled || state.server !== "running") {
        return false;
    }
    if (state.status === undefined || state.progress.length > 0) {
        return true;
    }
    const status = parseStatus(state.status);
    return status.roots.some((root) => !root.indexed) || (state.completionsEnabled && !status.model.loaded && !status.model.error);
}
