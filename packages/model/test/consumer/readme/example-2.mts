import { assertValid, isRunEvent, validate, ValidationError } from "@arp/model";

// 1. A result you can branch on; never throws.
const result = validate("Run", JSON.parse('{"run_id":"run_1","state":"paused"}'));
if (!result.ok) {
  for (const issue of result.errors) console.log(issue.pointer, issue.message);
  // → /root_node_run_id is required
  // → /state must be one of "queued", "running", "succeeded", "failed", "canceled"
}

// 2. Type guards: isX(value) for every schema, or isValid(name, value).
const line: unknown = JSON.parse(
  '{"run_id":"run_1","seq":0,"type":"run_started","time":"2026-01-15T09:30:00Z"}',
);
if (isRunEvent(line)) console.log(line.seq, line.type); // `line` is a RunEvent here → 0 run_started

// 3. Assertions: assertX(value) or assertValid(name, value) throw a ValidationError.
try {
  assertValid("NodeTypeRef", { node_type_id: "com.example.summarize" });
} catch (err) {
  if (err instanceof ValidationError) {
    console.log(err.code, err.schema, err.message);
    // → validation_failed NodeTypeRef Invalid NodeTypeRef: /version is required
  }
}

export {};
