import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProgressTracker } from "../src/progress";

describe("ProgressTracker", () => {
    it("follows begin, report and end", () => {
        const tracker = new ProgressTracker();
        assert.equal(tracker.apply("bowerbird-indexing-repo-0", { kind: "begin", title: "Indexing repo", percentage: 0 }), "begin");
        assert.deepEqual(tracker.active(), [{ token: "bowerbird-indexing-repo-0", title: "Indexing repo", percentage: 0, message: undefined }]);
        assert.equal(tracker.apply("bowerbird-indexing-repo-0", { kind: "report", message: "10/40 files", percentage: 25 }), "report");
        assert.deepEqual(tracker.active(), [{ token: "bowerbird-indexing-repo-0", title: "Indexing repo", percentage: 25, message: "10/40 files" }]);
        assert.equal(tracker.apply("bowerbird-indexing-repo-0", { kind: "report" }), "report");
        assert.equal(tracker.active()[0].percentage, 25, "a report without a percentage keeps the last one");
        assert.equal(tracker.apply("bowerbird-indexing-repo-0", { kind: "end", message: "done" }), "end");
        assert.deepEqual(tracker.active(), []);
    });

    it("keeps several in the order they began; numeric tokens are tokens too", () => {
        const tracker = new ProgressTracker();
        tracker.apply(7, { kind: "begin", title: "Loading model" });
        tracker.apply("x", { kind: "begin", title: "Indexing x" });
        assert.deepEqual(tracker.active().map((e) => e.token), ["7", "x"]);
        tracker.apply("7", { kind: "end" });
        assert.deepEqual(tracker.active().map((e) => e.title), ["Indexing x"]);
    });

    it("ignores what is not a progress value", () => {
        const tracker = new ProgressTracker();
        for (const bad of [null, undefined, 5, "begin", [], {}, { kind: "start", title: "x" }]) {
            assert.equal(tracker.apply("t", bad), undefined, JSON.stringify(bad));
        }
        assert.equal(tracker.apply("t", { kind: "report", percentage: 5 }), undefined, "no begin");
        assert.equal(tracker.apply("t", { kind: "end" }), undefined, "no begin");
        assert.deepEqual(tracker.active(), []);
    });

    it("cleans up odd fields", () => {
        const tracker = new ProgressTracker();
        tracker.apply("t", { kind: "begin", title: 3, percentage: 250.4, message: ["m"] });
        assert.deepEqual(tracker.active(), [{ token: "t", title: "Working", percentage: 100, message: undefined }]);
        tracker.apply("t", { kind: "report", percentage: -3 });
        assert.equal(tracker.active()[0].percentage, 0);
        tracker.apply("t", { kind: "report", percentage: Number.NaN });
        assert.equal(tracker.active()[0].percentage, 0);
    });

    it("hands out copies and clears", () => {
        const tracker = new ProgressTracker();
        tracker.apply("t", { kind: "begin", title: "Indexing" });
        tracker.active()[0].title = "changed";
        assert.equal(tracker.active()[0].title, "Indexing");
        tracker.clear();
        assert.deepEqual(tracker.active(), []);
    });
});
