export interface paths {
    "/v1/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Check service health
         * @description Reports whether the service is operational (`ok`, `degraded` or `down`), optionally with per-check details. Requires no authentication, so probes and load balancers can call it.
         */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/version": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get service version
         * @description Returns the service name, its implementation version and the ARP API versions it supports. Requires no authentication.
         */
        get: operations["version"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a run
         * @description Starts a new Run whose root NodeRun executes `root_node_type_ref` with `input`, and returns the Run without waiting for it to finish. Follow its progress with `GET /v1/runs/{run_id}` or, where supported, the event stream.
         */
        post: operations["start_run"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{run_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a run
         * @description Returns the current state of a Run.
         */
        get: operations["get_run"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{run_id}:cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a run
         * @description Requests cancellation of a Run and returns the Run. Cancellation may finish asynchronously, so the returned state is not necessarily `canceled` yet. The request has no body.
         */
        post: operations["cancel_run"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{run_id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Stream run events (optional endpoint)
         * @description Streams the Run's events as newline-delimited JSON: each line is one RunEvent, in `seq` order. Optional: a conforming service may not implement this endpoint.
         */
        get: operations["stream_run_events"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/node-runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create child NodeRuns
         * @description Creates one or more child NodeRuns (subtasks) under a composite NodeRun; called by Composite Executors while decomposing. Give each item an `idempotency_key` so that a retried request does not create duplicates.
         */
        post: operations["create_node_runs"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/node-runs/{node_run_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a NodeRun
         * @description Returns the current state of a NodeRun.
         */
        get: operations["get_node_run"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/node-runs/{node_run_id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Stream NodeRun events (optional endpoint)
         * @description Streams, as newline-delimited JSON, the RunEvents of a NodeRun and of all its descendants, in `seq` order. Optional: a conforming service may not implement this endpoint.
         */
        get: operations["stream_node_run_events"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/node-runs/{node_run_id}:evaluation": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report a NodeRun evaluation
         * @description Records the evaluation of a NodeRun's outcome, optionally with a proposed recovery action. Responds with 204 No Content once the report is recorded.
         */
        post: operations["report_node_run_evaluation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/node-runs/{node_run_id}:complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Complete a NodeRun
         * @description Records the terminal state of a NodeRun with its outputs, artifacts and, on failure, its error. Composite Executors call it when their composite NodeRun is done. Responds with 204 No Content.
         */
        post: operations["complete_node_run"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Health: components["schemas"]["health.schema"];
        VersionInfo: components["schemas"]["version_info.schema"];
        ErrorEnvelope: components["schemas"]["error.schema"];
        RunStartRequest: components["schemas"]["run_start_request.schema"];
        Run: components["schemas"]["run.schema"];
        NodeRun: components["schemas"]["node_run.schema"];
        NodeRunsCreateRequest: components["schemas"]["node_runs_create_request.schema"];
        NodeRunsCreateResponse: components["schemas"]["node_runs_create_response.schema"];
        NodeRunEvaluationReportRequest: components["schemas"]["node_run_evaluation_report_request.schema"];
        NodeRunCompleteRequest: components["schemas"]["node_run_complete_request.schema"];
        /**
         * Extensions
         * @description Open map for vendor-specific data, available on most ARP objects. Every key must be namespaced as `<reverse_dns_or_org>.<key>` (for example `com.example.priority`): it needs at least one dot, and keys without a namespace are rejected. Values may be any JSON value.
         */
        "extensions.schema": {
            [key: string]: unknown;
        };
        /**
         * ErrorCause
         * @description The underlying failure behind an error. Unlike the error itself, a cause does not nest further causes.
         */
        "error_cause.schema": {
            /** @description Machine-readable code of the underlying failure, when one is known. */
            code?: string;
            /** @description Human-readable description of the underlying failure. */
            message: string;
            /** @description Structured data about the cause. Open map: keys and values are defined by the service. */
            details?: {
                [key: string]: unknown;
            };
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * Error
         * @description Machine-readable error reported by an ARP service, carried in the `error` field of an error envelope. The TypeScript SDK names this type `ErrorDetail` so that it does not shadow the global `Error`.
         */
        "error_detail.schema": {
            /** @description Stable, machine-readable error code. Program against this value, not against `message`. */
            code: string;
            /** @description Human-readable explanation of the error, meant for logs and people rather than for parsing. */
            message: string;
            /** @description Additional structured context about the error. Open map: keys and values are defined by the service. */
            details?: {
                [key: string]: unknown;
            };
            /** @description Whether repeating the same request later may succeed. When absent, retryability is unknown. */
            retryable?: boolean;
            /** @description The underlying failure that led to this error, if any. */
            cause?: components["schemas"]["error_cause.schema"];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * ErrorEnvelope
         * @description Body of every ARP error response: a single error under `error`.
         */
        "error.schema": {
            /** @description The error that occurred. */
            error: components["schemas"]["error_detail.schema"];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * Status
         * @description Coarse health status: `ok` (fully operational), `degraded` (operating with reduced capability) or `down` (not operational).
         * @enum {string}
         */
        "status.schema": "ok" | "degraded" | "down";
        /**
         * Health
         * @description Health report returned by `GET /v1/health`, which every ARP service exposes without authentication.
         */
        "health.schema": {
            /** @description Overall status of the service. */
            status: components["schemas"]["status.schema"];
            /**
             * Format: date-time
             * @description When the service produced this report (RFC 3339 date-time).
             */
            time: string;
            /** @description Optional results of individual checks (dependencies, subsystems) behind the overall status. */
            checks?: {
                /** @description Name of the check, for example the dependency it probes. */
                name: string;
                /** @description Status reported by this check. */
                status: components["schemas"]["status.schema"];
                /** @description Human-readable detail about the outcome of the check. */
                message?: string;
                /** @description Check-specific structured data. Open map. */
                details?: {
                    [key: string]: unknown;
                };
            }[];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * VersionInfo
         * @description Identity and version of a service, returned by `GET /v1/version`, which every ARP service exposes without authentication.
         */
        "version_info.schema": {
            /** @description Name of the service implementation. */
            service_name: string;
            /** @description Version of the service implementation (not the ARP API version). */
            service_version: string;
            /** @description ARP API versions the service implements, such as `v1`. Contains at least one entry. */
            supported_api_versions: string[];
            /** @description Optional provenance of the running build. */
            build?: {
                /** @description Source-control commit the build was made from. */
                commit?: string;
                /**
                 * Format: date-time
                 * @description When the build was produced (RFC 3339 date-time).
                 */
                built_at?: string;
                /** @description True when the build included uncommitted changes. */
                dirty?: boolean;
            };
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * NodeTypeRef
         * @description Reference to one version of a node type.
         */
        "node_type_ref.schema": {
            /** @description Identifier of the node type. */
            node_type_id: string;
            /** @description Version of the node type. */
            version: string;
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * ResourceRef
         * @description Reference to an external resource (a user, a service account, an artifact, ...) by type and identifier.
         */
        "resource_ref.schema": {
            /** @description Kind of resource, such as `user` or `artifact`. The set of types is defined by the deployment. */
            type: string;
            /** @description Identifier of the resource, meaningful together with `type`. */
            id: string;
            /**
             * Format: uri
             * @description Optional URI at which the resource can be found.
             */
            uri?: string;
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * RunContext
         * @description Context propagated through a Run and its NodeRuns: tenant, acting principal, identity, tracing identifiers, and policy and budget hints.
         */
        "run_context.schema": {
            /** @description Tenant the Run belongs to, in multi-tenant deployments. */
            tenant_id?: string;
            /** @description Principal on whose behalf the Run executes. */
            actor?: components["schemas"]["resource_ref.schema"];
            /** @description Identity information about the caller, such as token claims. Open map; deployment-defined. */
            identity?: {
                [key: string]: unknown;
            };
            /** @description Identifiers for distributed tracing and log correlation. */
            trace?: {
                /** @description Trace identifier shared by all work in the trace. */
                trace_id?: string;
                /** @description Identifier of the current span within the trace. */
                span_id?: string;
                /** @description Identifier of the originating request. */
                request_id?: string;
            };
            /** @description Policy settings or hints for this Run. Open map; deployment-defined. */
            policy?: {
                [key: string]: unknown;
            };
            /** @description Budget information for this Run. Open map; for enforced limits see `ConstraintEnvelope.budgets`. */
            budgets?: {
                [key: string]: unknown;
            };
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * ConstraintEnvelope
         * @description Limits that bound a Run, a NodeRun or a subtask: structural limits on decomposition, candidate filters, resource budgets and side-effect gates. Every group and every field is optional.
         */
        "constraint_envelope.schema": {
            /** @description Limits on the shape of the NodeRun tree. */
            structural?: {
                /** @description Maximum nesting depth of NodeRuns in the tree. */
                max_depth?: number;
                /** @description Maximum number of child NodeRuns one composite NodeRun may create. */
                max_children_per_composite?: number;
                /** @description Maximum number of NodeRuns in the whole Run. */
                max_total_nodes_per_run?: number;
                /** @description Maximum number of decomposition rounds (batches of children) per composite NodeRun. */
                max_decomposition_rounds_per_node?: number;
            };
            /** @description Filters and limits applied when selecting node types for subtasks. */
            candidates?: {
                /** @description Maximum number of candidates to consider for each subtask (at least 1). */
                max_candidates_per_subtask?: number;
                /** @description When present, only node types with these ids may be selected. */
                allowed_node_type_ids?: string[];
                /** @description Node type ids that must not be selected. */
                denied_node_type_ids?: string[];
            };
            /** @description Resource budgets. */
            budgets?: {
                /** @description Maximum wall-clock time, in milliseconds. */
                max_wall_time_ms?: number;
                /** @description Maximum number of execution steps. */
                max_steps?: number;
                /** @description Maximum number of calls to external systems (tools, APIs, models). */
                max_external_calls?: number;
                /** @description Maximum cost, in a unit defined by the deployment. */
                max_cost?: number;
            };
            /** @description Gates on side effects and human approval. */
            gates?: {
                /**
                 * SideEffectClass
                 * @description Class of side effects: `read` (observes only), `write` (changes state) or `irreversible` (changes that cannot be undone).
                 * @enum {string}
                 */
                side_effect_class?: "read" | "write" | "irreversible";
                /** @description Whether human approval is required before proceeding. */
                require_approval?: boolean;
            };
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * Metadata
         * @description Descriptive key/value data attached to a resource, for grouping, search and tooling.
         */
        "metadata.schema": {
            /** @description Short identifying labels, for selecting and grouping resources. Open map of string values. */
            labels?: {
                [key: string]: string;
            };
            /** @description Free-form notes for tools and people; not used for selection. Open map of string values. */
            annotations?: {
                [key: string]: string;
            };
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * RunStartRequest
         * @description Body of `POST /v1/runs`: starts a Run whose root NodeRun executes `root_node_type_ref`.
         */
        "run_start_request.schema": {
            /** @description Identifier to give the Run; when omitted, the service assigns one. */
            run_id?: string;
            /** @description Node type (and version) executed by the root NodeRun. */
            root_node_type_ref: components["schemas"]["node_type_ref.schema"];
            /** @description Input values for the root NodeRun, shaped by the root node type's `input_schema`. Open map. Note the singular name: elsewhere the field is `inputs`. */
            input: {
                [key: string]: unknown;
            };
            /** @description Context to run in (tenant, actor, tracing, policy and budget hints). */
            run_context?: components["schemas"]["run_context.schema"];
            /** @description Constraints for the whole Run. */
            constraints?: components["schemas"]["constraint_envelope.schema"];
            /** @description Labels and annotations for the Run. */
            metadata?: components["schemas"]["metadata.schema"];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * RunState
         * @description Lifecycle state of a Run: `queued`, `running`, and the terminal states `succeeded`, `failed` and `canceled`.
         * @enum {string}
         */
        "run_state.schema": "queued" | "running" | "succeeded" | "failed" | "canceled";
        /**
         * Run
         * @description One end-to-end execution started from a root node type. Its work is carried out by a tree of NodeRuns whose root is `root_node_run_id`.
         */
        "run.schema": {
            /** @description Unique identifier of the Run. */
            run_id: string;
            /** @description Current lifecycle state. */
            state: components["schemas"]["run_state.schema"];
            /** @description NodeRun at the root of the Run's NodeRun tree. */
            root_node_run_id: string;
            /** @description Context the Run executes in (tenant, actor, tracing, policy and budget hints). */
            run_context?: components["schemas"]["run_context.schema"];
            /**
             * Format: date-time
             * @description When the Run started (RFC 3339 date-time).
             */
            started_at?: string;
            /**
             * Format: date-time
             * @description When the Run reached a terminal state (RFC 3339 date-time).
             */
            ended_at?: string;
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * BindingDecision
         * @description Record of which node type was chosen to carry out a subtask and, optionally, from which candidate set and why.
         */
        "binding_decision.schema": {
            /** @description Subtask the decision applies to (the `subtask_id` of its SubtaskSpec). */
            subtask_id: string;
            /** @description Candidate set the node type was chosen from, when selection went through the Selection service. */
            candidate_set_id?: string;
            /** @description Node type (and version) chosen for the subtask. */
            chosen_node_type_ref: components["schemas"]["node_type_ref.schema"];
            /** @description Human-readable explanation of the choice. */
            rationale?: string;
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * NodeRunsCreateRequest
         * @description Body of `POST /v1/node-runs`: creates child NodeRuns (subtasks) under a composite NodeRun.
         */
        "node_runs_create_request.schema": {
            /** @description Run the new NodeRuns belong to. */
            run_id: string;
            /** @description Composite NodeRun the new NodeRuns are children of. */
            parent_node_run_id: string;
            /** @description Child NodeRuns to create; at least one. */
            node_runs: {
                /** @description Node type (and version) the child executes. */
                node_type_ref: components["schemas"]["node_type_ref.schema"];
                /** @description Input values for the child, shaped by the node type's `input_schema`. Open map. */
                inputs: {
                    [key: string]: unknown;
                };
                /** @description Constraints for the child. */
                constraints?: components["schemas"]["constraint_envelope.schema"];
                /** @description Candidate set the node type was chosen from, if any (see `CandidateSet.candidate_set_id`). */
                candidate_set_id?: string;
                /** @description Record of how the node type was chosen for the subtask. */
                binding_decision?: components["schemas"]["binding_decision.schema"];
                /** @description Executor instance the caller asks to run the child on (see `ExecutorInstance.executor_instance_id`). */
                requested_executor_instance_id?: string;
                /** @description Caller-chosen key that lets the coordinator recognise a retried request and avoid creating the same child twice. */
                idempotency_key?: string;
                /** @description Labels and annotations for the child NodeRun. */
                metadata?: components["schemas"]["metadata.schema"];
                /** @description Vendor extensions; keys must be namespaced (`org.key`). */
                extensions?: components["schemas"]["extensions.schema"];
            }[];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * NodeKind
         * @description Kind of node: `atomic` nodes are executed directly by an Atomic Executor; `composite` nodes are decomposed by a Composite Executor into child NodeRuns.
         * @enum {string}
         */
        "node_kind.schema": "atomic" | "composite";
        /**
         * NodeRunState
         * @description Lifecycle state of a NodeRun: `queued` (waiting), `assigned` (bound to an executor), `running`, and the terminal states `succeeded`, `failed` and `canceled`.
         * @enum {string}
         */
        "node_run_state.schema": "queued" | "assigned" | "running" | "succeeded" | "failed" | "canceled";
        /**
         * EndpointLocator
         * Format: uri
         * @description URI that locates an ARP service endpoint, such as `http://127.0.0.1:43120`. The locator is transport-agnostic: deployments may adopt other URI schemes later (for example `unix://...`).
         */
        "endpoint_locator.schema": string;
        /**
         * ExecutorBinding
         * @description The executor instance a NodeRun is assigned to, and how to reach it.
         */
        "executor_binding.schema": {
            /** @description Identifier of the executor instance (see `ExecutorInstance.executor_instance_id`). */
            executor_instance_id: string;
            /** @description Endpoint of the executor instance. */
            endpoint: components["schemas"]["endpoint_locator.schema"];
            /** @description Audience that credentials sent to this executor must target, such as the `aud` claim of a JWT. */
            audience?: string;
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * EvaluationStatus
         * @description Verdict of an evaluation: `success` (expectations met), `fail` (not met) or `unknown` (could not be determined).
         * @enum {string}
         */
        "evaluation_status.schema": "success" | "fail" | "unknown";
        /**
         * EvaluationResult
         * @description Verdict of evaluating a NodeRun's outcome against what was expected of it.
         */
        "evaluation_result.schema": {
            /** @description Overall verdict. */
            status: components["schemas"]["evaluation_status.schema"];
            /** @description Machine-readable reason for the verdict. */
            reason_code?: string;
            /** @description Human-readable explanation of the verdict. */
            message?: string;
            /** @description Evaluator-specific structured data. Open map. */
            details?: {
                [key: string]: unknown;
            };
            /** @description Confidence in the verdict, from 0 (none) to 1 (certain). */
            confidence?: number;
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * RecoveryActionType
         * @description Kind of recovery: `retry` the work, `remap` it to another node type, `decompose_further` into smaller subtasks, `ask_user` for guidance, or `abort`.
         * @enum {string}
         */
        "recovery_action_type.schema": "retry" | "remap" | "decompose_further" | "ask_user" | "abort";
        /**
         * RecoveryAction
         * @description Action proposed or taken to recover from a failed or unsatisfactory NodeRun.
         */
        "recovery_action.schema": {
            /** @description What kind of recovery to perform. */
            type: components["schemas"]["recovery_action_type.schema"];
            /** @description NodeRun the action applies to. */
            target_node_run_id?: string;
            /** @description Node type to use instead, for example with `remap`. */
            target_node_type_ref?: components["schemas"]["node_type_ref.schema"];
            /** @description Human-readable explanation, or the question to put to the user for `ask_user`. */
            message?: string;
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * NodeRun
         * @description One execution of a node type within a Run. Composite NodeRuns create child NodeRuns, so the NodeRuns of a Run form a tree rooted at `Run.root_node_run_id`.
         */
        "node_run.schema": {
            /** @description Unique identifier of the NodeRun. */
            node_run_id: string;
            /** @description Run the NodeRun belongs to. */
            run_id: string;
            /** @description Node type (and version) being executed. */
            node_type_ref: components["schemas"]["node_type_ref.schema"];
            /** @description Whether the NodeRun is atomic or composite. */
            kind?: components["schemas"]["node_kind.schema"];
            /** @description Composite NodeRun that created this one; absent for the root NodeRun. */
            parent_node_run_id?: string;
            /** @description Current lifecycle state. */
            state: components["schemas"]["node_run_state.schema"];
            /**
             * Format: date-time
             * @description When the NodeRun was created (RFC 3339 date-time).
             */
            created_at?: string;
            /**
             * Format: date-time
             * @description When execution started (RFC 3339 date-time).
             */
            started_at?: string;
            /**
             * Format: date-time
             * @description When the NodeRun reached a terminal state (RFC 3339 date-time).
             */
            ended_at?: string;
            /** @description Input values, shaped by the node type's `input_schema`. Open map. */
            inputs?: {
                [key: string]: unknown;
            };
            /** @description Output values, shaped by the node type's `output_schema`. Open map. */
            outputs?: {
                [key: string]: unknown;
            };
            /** @description References to artifacts the NodeRun produced. */
            output_artifacts?: components["schemas"]["resource_ref.schema"][];
            /** @description Executor instance the NodeRun is assigned to, once assigned. */
            executor_binding?: components["schemas"]["executor_binding.schema"];
            /** @description Latest evaluation of the NodeRun's outcome. */
            evaluation_result?: components["schemas"]["evaluation_result.schema"];
            /** @description Recovery actions recorded for this NodeRun. */
            recovery_actions?: components["schemas"]["recovery_action.schema"][];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * NodeRunsCreateResponse
         * @description Result of `POST /v1/node-runs`: the NodeRuns that were created.
         */
        "node_runs_create_response.schema": {
            /** @description The created child NodeRuns. */
            node_runs: components["schemas"]["node_run.schema"][];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * NodeRunEvaluationReportRequest
         * @description Body of `POST /v1/node-runs/{node_run_id}:evaluation`: reports the evaluation of a NodeRun's outcome, optionally with a proposed recovery action.
         */
        "node_run_evaluation_report_request.schema": {
            /** @description The evaluation verdict to record. */
            evaluation_result: components["schemas"]["evaluation_result.schema"];
            /** @description Recovery action proposed in response to the evaluation, if any. */
            recovery_action?: components["schemas"]["recovery_action.schema"];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * NodeRunTerminalState
         * @description Terminal subset of NodeRunState, used when a NodeRun is completed.
         * @enum {string}
         */
        "node_run_terminal_state.schema": "succeeded" | "failed" | "canceled";
        /**
         * NodeRunCompleteRequest
         * @description Body of `POST /v1/node-runs/{node_run_id}:complete`: records the terminal state and results of a NodeRun, typically sent by a Composite Executor when its composite NodeRun is done.
         */
        "node_run_complete_request.schema": {
            /** @description Terminal state to record. */
            state: components["schemas"]["node_run_terminal_state.schema"];
            /** @description Output values, shaped by the node type's `output_schema`. Open map. */
            outputs?: {
                [key: string]: unknown;
            };
            /** @description References to artifacts the NodeRun produced. */
            output_artifacts?: components["schemas"]["resource_ref.schema"][];
            /** @description What went wrong, when the NodeRun failed. */
            error?: components["schemas"]["error_detail.schema"];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
    };
    responses: {
        /** @description Authentication is missing or invalid. The `WWW-Authenticate` header describes how to authenticate. */
        UnauthorizedError: {
            headers: {
                /** @description Authentication challenge, such as `Bearer` with error details. */
                "WWW-Authenticate"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["error.schema"];
            };
        };
        /** @description The caller is authenticated but not allowed to perform this operation. */
        ForbiddenError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["error.schema"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Current health of the service. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["health.schema"];
                };
            };
            /** @description Unexpected error; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    version: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Name and version information of the service. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["version_info.schema"];
                };
            };
            /** @description Unexpected error; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    start_run: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description Root node type, input, context and constraints of the new Run. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["run_start_request.schema"];
            };
        };
        responses: {
            /** @description The Run that was started. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["run.schema"];
                };
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    get_run: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Identifier of the Run. */
                run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Run. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["run.schema"];
                };
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    cancel_run: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Identifier of the Run to cancel. */
                run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Run after cancellation was requested. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["run.schema"];
                };
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    stream_run_events: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Identifier of the Run whose events to stream. */
                run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description NDJSON stream; every line is a JSON RunEvent of this Run, ordered by `seq`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": string;
                };
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    create_node_runs: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description Parent NodeRun and the children to create. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["node_runs_create_request.schema"];
            };
        };
        responses: {
            /** @description The NodeRuns that were created. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["node_runs_create_response.schema"];
                };
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    get_node_run: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Identifier of the NodeRun. */
                node_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The NodeRun. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["node_run.schema"];
                };
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    stream_node_run_events: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Identifier of the NodeRun whose events (and its descendants' events) to stream. */
                node_run_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description NDJSON stream; every line is a JSON RunEvent of this NodeRun or one of its descendants, ordered by `seq`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": string;
                };
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    report_node_run_evaluation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Identifier of the evaluated NodeRun. */
                node_run_id: string;
            };
            cookie?: never;
        };
        /** @description The evaluation result and an optional recovery action. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["node_run_evaluation_report_request.schema"];
            };
        };
        responses: {
            /** @description The evaluation was recorded; no content. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
    complete_node_run: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Identifier of the NodeRun to complete. */
                node_run_id: string;
            };
            cookie?: never;
        };
        /** @description Terminal state and results of the NodeRun. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["node_run_complete_request.schema"];
            };
        };
        responses: {
            /** @description The NodeRun was completed; no content. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["UnauthorizedError"];
            403: components["responses"]["ForbiddenError"];
            /** @description Request failed; the body is an error envelope. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["error.schema"];
                };
            };
        };
    };
}
