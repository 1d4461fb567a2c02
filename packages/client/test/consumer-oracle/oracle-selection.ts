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
    "/v1/candidate-sets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Generate a candidate set
         * @description Proposes candidate node types for a subtask, within the given constraints. The returned set has an id that later binding decisions and NodeRun creation requests can refer to.
         */
        post: operations["generate_candidate_set"];
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
        CandidateSetRequest: components["schemas"]["candidate_set_request.schema"];
        CandidateSet: components["schemas"]["candidate_set.schema"];
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
         * SubtaskSpec
         * @description A piece of work, produced while decomposing a composite NodeRun, for which a node type must be selected.
         */
        "subtask_spec.schema": {
            /** @description Identifier of the subtask; echoed in `CandidateSet.subtask_id` and `BindingDecision.subtask_id`. */
            subtask_id: string;
            /** @description What the subtask must achieve, in natural language. */
            goal: string;
            /** @description Constraints the subtask must respect. */
            constraints?: components["schemas"]["constraint_envelope.schema"];
            /** @description JSON Schema the subtask's output is expected to satisfy. */
            expected_output_schema?: {
                [key: string]: unknown;
            };
            /** @description Labels and annotations for the subtask. */
            metadata?: components["schemas"]["metadata.schema"];
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
         * CandidateSetRequest
         * @description Body of `POST /v1/candidate-sets`: asks the Selection service for candidate node types for a subtask.
         */
        "candidate_set_request.schema": {
            /** @description The subtask to find candidates for. */
            subtask_spec: components["schemas"]["subtask_spec.schema"];
            /** @description Context of the Run the subtask belongs to. */
            run_context?: components["schemas"]["run_context.schema"];
            /** @description Constraints the candidates must satisfy. */
            constraints?: components["schemas"]["constraint_envelope.schema"];
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
         * Candidate
         * @description A node type proposed by the Selection service for a subtask.
         */
        "candidate.schema": {
            /** @description The proposed node type and version. */
            node_type_ref: components["schemas"]["node_type_ref.schema"];
            /** @description Score the Selection service gave this candidate when ranking; its scale is implementation-defined. */
            score?: number;
            /** @description Human-readable reason this candidate was proposed. */
            rationale?: string;
            /** @description Constraints that apply if this candidate is chosen. */
            constraints?: components["schemas"]["constraint_envelope.schema"];
            /** @description Labels and annotations for the candidate. */
            metadata?: components["schemas"]["metadata.schema"];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * CandidateSet
         * @description Candidate node types generated by the Selection service for one subtask.
         */
        "candidate_set.schema": {
            /** @description Identifier of this candidate set; later referenced by `BindingDecision.candidate_set_id` and `NodeRunCreateSpec.candidate_set_id`. */
            candidate_set_id: string;
            /** @description Subtask the candidates were generated for (the `subtask_id` of the request's SubtaskSpec). */
            subtask_id: string;
            /** @description The proposed candidates; may be empty when nothing fits. */
            candidates: components["schemas"]["candidate.schema"][];
            /** @description Maximum number of candidates the set was limited to (at least 1). */
            top_k?: number;
            /**
             * Format: date-time
             * @description When the set was generated (RFC 3339 date-time).
             */
            generated_at?: string;
            /** @description Constraints that were applied while generating the set. */
            constraints?: components["schemas"]["constraint_envelope.schema"];
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
    generate_candidate_set: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description The subtask, with its run context and constraints. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["candidate_set_request.schema"];
            };
        };
        responses: {
            /** @description The generated candidate set. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["candidate_set.schema"];
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
}
