// Work-done progress (`$/progress`) the server reports, by token. No `vscode` import.

export interface ProgressEntry {
    token: string;
    title: string;
    percentage?: number;
    message?: string;
}

export type ProgressKind = "begin" | "report" | "end";

function text(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

function percent(value: unknown): number | undefined {
    return typeof value === "number" && Number.isFinite(value) ? Math.max(0, Math.min(100, Math.round(value))) : undefined;
}

/** What is in progress now, in the order it began. */
export class ProgressTracker {
    private readonly entries = new Map<string, ProgressEntry>();

    /**
     * Apply one `$/progress` value (`{kind: "begin" | "report" | "end", ...}`). Answers the kind
     * applied, or undefined when the value is not one (it is then ignored).
     */
    apply(token: string | number, value: unknown): ProgressKind | undefined {
        if (typeof value !== "object" || value === null) {
            return undefined;
        }
        const fields = value as Record<string, unknown>;
        const key = String(token);
        switch (fields.kind) {
            case "begin":
                this.entries.set(key, {
                    token: key,
                    title: text(fields.title) ?? "Working",
                    percentage: percent(fields.percentage),
                    message: text(fields.message),
                });
                return "begin";
            case "report": {
                const entry = this.entries.get(key);
                if (entry === undefined) {
                    return undefined; // a report without a begin: nothing to attach it to
                }
                entry.percentage = percent(fields.percentage) ?? entry.percentage;
                entry.message = text(fields.message) ?? entry.message;
                return "report";
            }
            case "end":
                return this.entries.delete(key) ? "end" : undefined;
            default:
                return undefined;
        }
    }

    active(): ProgressEntry[] {
        return [...this.entries.values()].map((entry) => ({ ...entry }));
    }

    clear(): void {
        this.entries.clear();
    }
}
