// VS Code settings (section `bowerbird`) -> the server's options (`initializationOptions` and
// `workspace/didChangeConfiguration`). No `vscode` import: node's test runner loads this file.
//
// The table below mirrors the server's options (server/options.py): the same keys, defaults,
// enums and ranges. `package.json`'s `contributes.configuration` is checked against it by the
// tests, so the two cannot drift apart silently.

export type SettingKind = "boolean" | "integer" | "number" | "string" | "nullableString" | "nullableNumber";

export interface ServerSetting {
    /** Dotted path under the `bowerbird` section, also the path in the server's options. */
    readonly key: string;
    readonly kind: SettingKind;
    readonly default: boolean | number | string | null;
    readonly minimum?: number;
    readonly maximum?: number;
    /** An upper bound the value must stay below (JSON Schema's exclusiveMaximum). */
    readonly exclusiveMaximum?: number;
    readonly enum?: readonly string[];
}

export const BACKENDS = ["embedded", "transformers", "openai"] as const;
export const DTYPES = ["auto", "float32", "bfloat16", "float16"] as const;
export const CHOOSERS = ["classifier", "fixed"] as const;
export const RANKINGS = ["reward", "model_score"] as const;

export const SERVER_SETTINGS: readonly ServerSetting[] = [
    { key: "indexDir", kind: "nullableString", default: null },
    { key: "dataDir", kind: "nullableString", default: null },
    { key: "developerId", kind: "nullableString", default: null },
    { key: "completion.enabled", kind: "boolean", default: true },
    { key: "completion.backend", kind: "string", default: "embedded", enum: BACKENDS },
    { key: "completion.model", kind: "nullableString", default: null },
    { key: "completion.url", kind: "nullableString", default: null },
    { key: "completion.maxTokens", kind: "integer", default: 48, minimum: 1, maximum: 4096 },
    { key: "completion.temperature", kind: "number", default: 0, minimum: 0, maximum: 2 },
    { key: "completion.candidates", kind: "integer", default: 1, minimum: 1, maximum: 16 },
    { key: "completion.debounceMs", kind: "integer", default: 75, minimum: 0, maximum: 5000 },
    { key: "completion.proposalChooser", kind: "string", default: "classifier", enum: CHOOSERS },
    { key: "completion.classifier", kind: "nullableString", default: null },
    { key: "completion.proposal", kind: "integer", default: 62, minimum: 0, maximum: 62 },
    { key: "completion.tokenHealing", kind: "boolean", default: true },
    { key: "completion.dtype", kind: "string", default: "auto", enum: DTYPES },
    { key: "completion.ranking", kind: "string", default: "reward", enum: RANKINGS },
    { key: "completion.rewardModel", kind: "nullableString", default: null },
    { key: "completion.hideBelow", kind: "number", default: 0.1, minimum: 0, exclusiveMaximum: 1 },
    { key: "diagnostics.enabled", kind: "boolean", default: true },
    { key: "diagnostics.model", kind: "nullableString", default: null },
    { key: "diagnostics.threshold", kind: "nullableNumber", default: null, minimum: 0, maximum: 1 },
    { key: "diagnostics.debounceMs", kind: "integer", default: 150, minimum: 0, maximum: 5000 },
];

/** Settings only the extension reads; never sent to the server. */
export const CLIENT_SETTINGS: readonly string[] = [
    "enable",
    "server.path",
    "server.args",
    "server.python",
    "trace.server",
];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at a dotted path of nested objects; undefined when any step is missing. */
export function getPath(root: unknown, key: string): unknown {
    let value: unknown = root;
    for (const part of key.split(".")) {
        if (!isObject(value) || !Object.prototype.hasOwnProperty.call(value, part)) {
            return undefined;
        }
        value = value[part];
    }
    return value;
}

function setPath(root: JsonObject, key: string, value: JsonValue): void {
    const parts = key.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
        const next = node[part];
        if (!isObject(next)) {
            node[part] = {};
        }
        node = node[part] as JsonObject;
    }
    node[parts[parts.length - 1]] = value;
}

function toJson(value: unknown): JsonValue | undefined {
    if (value === undefined || typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") {
        return undefined;
    }
    try {
        return JSON.parse(JSON.stringify(value)) as JsonValue;
    } catch {
        return undefined;
    }
}

/**
 * The server's options from the `bowerbird` settings object (nested as VS Code nests dotted
 * keys: `{completion: {maxTokens: 48}}`).
 *
 * - Only the server's keys are copied: client-only keys (`enable`, `server.*`, `trace.*`) and
 *   unknown keys are dropped.
 * - Optional strings (paths, model, url, developer id) are trimmed; empty ones become null,
 *   which the server reads as "use your default".
 * - null for a setting that cannot be null becomes the setting's default.
 * - A missing key is left out (the server keeps what it has).
 * - A value of the wrong type or out of range is passed on unchanged: the server checks every
 *   value, shows a message naming the setting and uses its default, so the check and its
 *   message live in one place.
 */
export function toServerOptions(settings: unknown): JsonObject {
    const options: JsonObject = {};
    if (!isObject(settings)) {
        return options;
    }
    for (const setting of SERVER_SETTINGS) {
        const raw = getPath(settings, setting.key);
        let value: JsonValue | undefined;
        if (setting.kind === "nullableString" && typeof raw === "string") {
            value = raw.trim() === "" ? null : raw.trim();
        } else if (raw === null) {
            value = setting.default;
        } else {
            value = toJson(raw);
        }
        if (value !== undefined) {
            setPath(options, setting.key, value);
        }
    }
    return options;
}

/** The payload of `workspace/didChangeConfiguration`: VS Code nests settings by section. */
export function configurationChange(settings: unknown): { settings: { bowerbird: JsonObject } } {
    return { settings: { bowerbird: toServerOptions(settings) } };
}

/** Every setting key the extension reads (server's and its own), for building the object. */
export function allSettingKeys(): string[] {
    return [...SERVER_SETTINGS.map((s) => s.key), ...CLIENT_SETTINGS];
}

/** Nest flat `{ "completion.maxTokens": 48 }` values the way VS Code's settings object is. */
export function nestSettings(flat: Readonly<Record<string, unknown>>): JsonObject {
    const nested: JsonObject = {};
    for (const [key, raw] of Object.entries(flat)) {
        const value = toJson(raw);
        if (value !== undefined) {
            setPath(nested, key, value);
        }
    }
    return nested;
}
