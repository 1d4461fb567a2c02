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
    "/v1/node-types": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List node types
         * @description Lists the node types in the registry, optionally filtered by a free-text query and by kind. The result is a plain array, without pagination.
         */
        get: operations["list_node_types"];
        put?: never;
        /**
         * Publish a node type
         * @description Publishes a node type version to the registry and returns the node type as stored.
         */
        post: operations["publish_node_type"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/node-types/{node_type_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a node type
         * @description Returns a node type by id. Pass `version` to get a specific version; without it, the registry decides which version to return.
         */
        get: operations["get_node_type"];
        put?: never;
        post?: never;
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
        NodeKind: components["schemas"]["node_kind.schema"];
        NodeType: components["schemas"]["node_type.schema"];
        NodeTypePublishRequest: components["schemas"]["node_type_publish_request.schema"];
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
         * NodeKind
         * @description Kind of node: `atomic` nodes are executed directly by an Atomic Executor; `composite` nodes are decomposed by a Composite Executor into child NodeRuns.
         * @enum {string}
         */
        "node_kind.schema": "atomic" | "composite";
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
         * NodeType
         * @description Versioned definition of a unit of work, published in the Node Registry and executed as NodeRuns.
         */
        "node_type.schema": {
            /** @description Identifier of the node type, shared by all of its versions. */
            node_type_id: string;
            /** @description Version of this definition; together with `node_type_id` it identifies the definition. */
            version: string;
            /** @description Whether the node type is atomic or composite. */
            kind: components["schemas"]["node_kind.schema"];
            /** @description Human-readable description of what the node type does. */
            description?: string;
            /** @description JSON Schema of the `inputs` accepted by NodeRuns of this type. */
            input_schema?: {
                [key: string]: unknown;
            };
            /** @description JSON Schema of the `outputs` produced by NodeRuns of this type. */
            output_schema?: {
                [key: string]: unknown;
            };
            /** @description Constraints that apply to NodeRuns of this type. */
            constraints?: components["schemas"]["constraint_envelope.schema"];
            /** @description How results of this node type are evaluated. Open map; the content is implementation-defined. */
            evaluation?: {
                [key: string]: unknown;
            };
            /** @description Ids of executor types preferred for running this node type (see `ExecutorType.executor_type_id`). */
            preferred_executor_types?: string[];
            /** @description Labels and annotations for the node type. */
            metadata?: components["schemas"]["metadata.schema"];
            /** @description Vendor extensions; keys must be namespaced (`org.key`). */
            extensions?: components["schemas"]["extensions.schema"];
        };
        /**
         * NodeTypePublishRequest
         * @description Body of `POST /v1/node-types`: publishes a node type version to the Node Registry.
         */
        "node_type_publish_request.schema": {
            /** @description Node type definition to publish, including its version. */
            node_type: components["schemas"]["node_type.schema"];
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
    list_node_types: {
        parameters: {
            query?: {
                /** @description Free-text search query; how it is matched is up to the registry. */
                q?: string;
                /** @description Only return node types of this kind. */
                kind?: components["schemas"]["node_kind.schema"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The matching node types. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["node_type.schema"][];
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
    publish_node_type: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description The node type definition to publish. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["node_type_publish_request.schema"];
            };
        };
        responses: {
            /** @description The published node type. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["node_type.schema"];
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
    get_node_type: {
        parameters: {
            query?: {
                /** @description Version of the node type to return. */
                version?: string;
            };
            header?: never;
            path: {
                /** @description Identifier of the node type. */
                node_type_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The node type. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["node_type.schema"];
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
