import type * as C from "@arp/client";
/** True only when A and B are assignable to each other. */
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
declare function agree<T extends true>(): T;
import type { paths as O_AtomicExecutor } from "./oracle-atomic-executor.js";
// atomic-executor health
agree<Mutual<C.AtomicExecutorPaths["/v1/health"]["get"]["parameters"], O_AtomicExecutor["/v1/health"]["get"]["parameters"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/health"]["get"]["requestBody"], O_AtomicExecutor["/v1/health"]["get"]["requestBody"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/health"]["get"]["responses"][200]["content"], O_AtomicExecutor["/v1/health"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/health"]["get"]["responses"]["default"]["content"], O_AtomicExecutor["/v1/health"]["get"]["responses"]["default"]["content"]>>();
// atomic-executor version
agree<Mutual<C.AtomicExecutorPaths["/v1/version"]["get"]["parameters"], O_AtomicExecutor["/v1/version"]["get"]["parameters"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/version"]["get"]["requestBody"], O_AtomicExecutor["/v1/version"]["get"]["requestBody"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/version"]["get"]["responses"][200]["content"], O_AtomicExecutor["/v1/version"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/version"]["get"]["responses"]["default"]["content"], O_AtomicExecutor["/v1/version"]["get"]["responses"]["default"]["content"]>>();
// atomic-executor execute_atomic_node_run
agree<Mutual<C.AtomicExecutorPaths["/v1/atomic-node-runs:execute"]["post"]["parameters"], O_AtomicExecutor["/v1/atomic-node-runs:execute"]["post"]["parameters"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/atomic-node-runs:execute"]["post"]["requestBody"], O_AtomicExecutor["/v1/atomic-node-runs:execute"]["post"]["requestBody"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/atomic-node-runs:execute"]["post"]["responses"][200]["content"], O_AtomicExecutor["/v1/atomic-node-runs:execute"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/atomic-node-runs:execute"]["post"]["responses"]["default"]["content"], O_AtomicExecutor["/v1/atomic-node-runs:execute"]["post"]["responses"]["default"]["content"]>>();
// atomic-executor cancel_atomic_node_run
agree<Mutual<C.AtomicExecutorPaths["/v1/atomic-node-runs/{node_run_id}:cancel"]["post"]["parameters"], O_AtomicExecutor["/v1/atomic-node-runs/{node_run_id}:cancel"]["post"]["parameters"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/atomic-node-runs/{node_run_id}:cancel"]["post"]["requestBody"], O_AtomicExecutor["/v1/atomic-node-runs/{node_run_id}:cancel"]["post"]["requestBody"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/atomic-node-runs/{node_run_id}:cancel"]["post"]["responses"][204]["content"], O_AtomicExecutor["/v1/atomic-node-runs/{node_run_id}:cancel"]["post"]["responses"][204]["content"]>>();
agree<Mutual<C.AtomicExecutorPaths["/v1/atomic-node-runs/{node_run_id}:cancel"]["post"]["responses"]["default"]["content"], O_AtomicExecutor["/v1/atomic-node-runs/{node_run_id}:cancel"]["post"]["responses"]["default"]["content"]>>();
import type { paths as O_CompositeExecutor } from "./oracle-composite-executor.js";
// composite-executor health
agree<Mutual<C.CompositeExecutorPaths["/v1/health"]["get"]["parameters"], O_CompositeExecutor["/v1/health"]["get"]["parameters"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/health"]["get"]["requestBody"], O_CompositeExecutor["/v1/health"]["get"]["requestBody"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/health"]["get"]["responses"][200]["content"], O_CompositeExecutor["/v1/health"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/health"]["get"]["responses"]["default"]["content"], O_CompositeExecutor["/v1/health"]["get"]["responses"]["default"]["content"]>>();
// composite-executor version
agree<Mutual<C.CompositeExecutorPaths["/v1/version"]["get"]["parameters"], O_CompositeExecutor["/v1/version"]["get"]["parameters"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/version"]["get"]["requestBody"], O_CompositeExecutor["/v1/version"]["get"]["requestBody"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/version"]["get"]["responses"][200]["content"], O_CompositeExecutor["/v1/version"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/version"]["get"]["responses"]["default"]["content"], O_CompositeExecutor["/v1/version"]["get"]["responses"]["default"]["content"]>>();
// composite-executor begin_composite_node_run
agree<Mutual<C.CompositeExecutorPaths["/v1/composite-node-runs:begin"]["post"]["parameters"], O_CompositeExecutor["/v1/composite-node-runs:begin"]["post"]["parameters"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/composite-node-runs:begin"]["post"]["requestBody"], O_CompositeExecutor["/v1/composite-node-runs:begin"]["post"]["requestBody"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/composite-node-runs:begin"]["post"]["responses"][200]["content"], O_CompositeExecutor["/v1/composite-node-runs:begin"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/composite-node-runs:begin"]["post"]["responses"]["default"]["content"], O_CompositeExecutor["/v1/composite-node-runs:begin"]["post"]["responses"]["default"]["content"]>>();
// composite-executor cancel_composite_node_run
agree<Mutual<C.CompositeExecutorPaths["/v1/composite-node-runs/{node_run_id}:cancel"]["post"]["parameters"], O_CompositeExecutor["/v1/composite-node-runs/{node_run_id}:cancel"]["post"]["parameters"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/composite-node-runs/{node_run_id}:cancel"]["post"]["requestBody"], O_CompositeExecutor["/v1/composite-node-runs/{node_run_id}:cancel"]["post"]["requestBody"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/composite-node-runs/{node_run_id}:cancel"]["post"]["responses"][204]["content"], O_CompositeExecutor["/v1/composite-node-runs/{node_run_id}:cancel"]["post"]["responses"][204]["content"]>>();
agree<Mutual<C.CompositeExecutorPaths["/v1/composite-node-runs/{node_run_id}:cancel"]["post"]["responses"]["default"]["content"], O_CompositeExecutor["/v1/composite-node-runs/{node_run_id}:cancel"]["post"]["responses"]["default"]["content"]>>();
import type { paths as O_NodeRegistry } from "./oracle-node-registry.js";
// node-registry health
agree<Mutual<C.NodeRegistryPaths["/v1/health"]["get"]["parameters"], O_NodeRegistry["/v1/health"]["get"]["parameters"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/health"]["get"]["requestBody"], O_NodeRegistry["/v1/health"]["get"]["requestBody"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/health"]["get"]["responses"][200]["content"], O_NodeRegistry["/v1/health"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/health"]["get"]["responses"]["default"]["content"], O_NodeRegistry["/v1/health"]["get"]["responses"]["default"]["content"]>>();
// node-registry version
agree<Mutual<C.NodeRegistryPaths["/v1/version"]["get"]["parameters"], O_NodeRegistry["/v1/version"]["get"]["parameters"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/version"]["get"]["requestBody"], O_NodeRegistry["/v1/version"]["get"]["requestBody"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/version"]["get"]["responses"][200]["content"], O_NodeRegistry["/v1/version"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/version"]["get"]["responses"]["default"]["content"], O_NodeRegistry["/v1/version"]["get"]["responses"]["default"]["content"]>>();
// node-registry list_node_types
agree<Mutual<C.NodeRegistryPaths["/v1/node-types"]["get"]["parameters"], O_NodeRegistry["/v1/node-types"]["get"]["parameters"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types"]["get"]["requestBody"], O_NodeRegistry["/v1/node-types"]["get"]["requestBody"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types"]["get"]["responses"][200]["content"], O_NodeRegistry["/v1/node-types"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types"]["get"]["responses"]["default"]["content"], O_NodeRegistry["/v1/node-types"]["get"]["responses"]["default"]["content"]>>();
// node-registry publish_node_type
agree<Mutual<C.NodeRegistryPaths["/v1/node-types"]["post"]["parameters"], O_NodeRegistry["/v1/node-types"]["post"]["parameters"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types"]["post"]["requestBody"], O_NodeRegistry["/v1/node-types"]["post"]["requestBody"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types"]["post"]["responses"][200]["content"], O_NodeRegistry["/v1/node-types"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types"]["post"]["responses"]["default"]["content"], O_NodeRegistry["/v1/node-types"]["post"]["responses"]["default"]["content"]>>();
// node-registry get_node_type
agree<Mutual<C.NodeRegistryPaths["/v1/node-types/{node_type_id}"]["get"]["parameters"], O_NodeRegistry["/v1/node-types/{node_type_id}"]["get"]["parameters"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types/{node_type_id}"]["get"]["requestBody"], O_NodeRegistry["/v1/node-types/{node_type_id}"]["get"]["requestBody"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types/{node_type_id}"]["get"]["responses"][200]["content"], O_NodeRegistry["/v1/node-types/{node_type_id}"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.NodeRegistryPaths["/v1/node-types/{node_type_id}"]["get"]["responses"]["default"]["content"], O_NodeRegistry["/v1/node-types/{node_type_id}"]["get"]["responses"]["default"]["content"]>>();
import type { paths as O_Pdp } from "./oracle-pdp.js";
// pdp health
agree<Mutual<C.PdpPaths["/v1/health"]["get"]["parameters"], O_Pdp["/v1/health"]["get"]["parameters"]>>();
agree<Mutual<C.PdpPaths["/v1/health"]["get"]["requestBody"], O_Pdp["/v1/health"]["get"]["requestBody"]>>();
agree<Mutual<C.PdpPaths["/v1/health"]["get"]["responses"][200]["content"], O_Pdp["/v1/health"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.PdpPaths["/v1/health"]["get"]["responses"]["default"]["content"], O_Pdp["/v1/health"]["get"]["responses"]["default"]["content"]>>();
// pdp version
agree<Mutual<C.PdpPaths["/v1/version"]["get"]["parameters"], O_Pdp["/v1/version"]["get"]["parameters"]>>();
agree<Mutual<C.PdpPaths["/v1/version"]["get"]["requestBody"], O_Pdp["/v1/version"]["get"]["requestBody"]>>();
agree<Mutual<C.PdpPaths["/v1/version"]["get"]["responses"][200]["content"], O_Pdp["/v1/version"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.PdpPaths["/v1/version"]["get"]["responses"]["default"]["content"], O_Pdp["/v1/version"]["get"]["responses"]["default"]["content"]>>();
// pdp decide_policy
agree<Mutual<C.PdpPaths["/v1/policy:decide"]["post"]["parameters"], O_Pdp["/v1/policy:decide"]["post"]["parameters"]>>();
agree<Mutual<C.PdpPaths["/v1/policy:decide"]["post"]["requestBody"], O_Pdp["/v1/policy:decide"]["post"]["requestBody"]>>();
agree<Mutual<C.PdpPaths["/v1/policy:decide"]["post"]["responses"][200]["content"], O_Pdp["/v1/policy:decide"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.PdpPaths["/v1/policy:decide"]["post"]["responses"]["default"]["content"], O_Pdp["/v1/policy:decide"]["post"]["responses"]["default"]["content"]>>();
import type { paths as O_RunCoordinator } from "./oracle-run-coordinator.js";
// run-coordinator health
agree<Mutual<C.RunCoordinatorPaths["/v1/health"]["get"]["parameters"], O_RunCoordinator["/v1/health"]["get"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/health"]["get"]["requestBody"], O_RunCoordinator["/v1/health"]["get"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/health"]["get"]["responses"][200]["content"], O_RunCoordinator["/v1/health"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/health"]["get"]["responses"]["default"]["content"], O_RunCoordinator["/v1/health"]["get"]["responses"]["default"]["content"]>>();
// run-coordinator version
agree<Mutual<C.RunCoordinatorPaths["/v1/version"]["get"]["parameters"], O_RunCoordinator["/v1/version"]["get"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/version"]["get"]["requestBody"], O_RunCoordinator["/v1/version"]["get"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/version"]["get"]["responses"][200]["content"], O_RunCoordinator["/v1/version"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/version"]["get"]["responses"]["default"]["content"], O_RunCoordinator["/v1/version"]["get"]["responses"]["default"]["content"]>>();
// run-coordinator start_run
agree<Mutual<C.RunCoordinatorPaths["/v1/runs"]["post"]["parameters"], O_RunCoordinator["/v1/runs"]["post"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs"]["post"]["requestBody"], O_RunCoordinator["/v1/runs"]["post"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs"]["post"]["responses"][200]["content"], O_RunCoordinator["/v1/runs"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs"]["post"]["responses"]["default"]["content"], O_RunCoordinator["/v1/runs"]["post"]["responses"]["default"]["content"]>>();
// run-coordinator get_run
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}"]["get"]["parameters"], O_RunCoordinator["/v1/runs/{run_id}"]["get"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}"]["get"]["requestBody"], O_RunCoordinator["/v1/runs/{run_id}"]["get"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}"]["get"]["responses"][200]["content"], O_RunCoordinator["/v1/runs/{run_id}"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}"]["get"]["responses"]["default"]["content"], O_RunCoordinator["/v1/runs/{run_id}"]["get"]["responses"]["default"]["content"]>>();
// run-coordinator cancel_run
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}:cancel"]["post"]["parameters"], O_RunCoordinator["/v1/runs/{run_id}:cancel"]["post"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}:cancel"]["post"]["requestBody"], O_RunCoordinator["/v1/runs/{run_id}:cancel"]["post"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}:cancel"]["post"]["responses"][200]["content"], O_RunCoordinator["/v1/runs/{run_id}:cancel"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}:cancel"]["post"]["responses"]["default"]["content"], O_RunCoordinator["/v1/runs/{run_id}:cancel"]["post"]["responses"]["default"]["content"]>>();
// run-coordinator stream_run_events
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}/events"]["get"]["parameters"], O_RunCoordinator["/v1/runs/{run_id}/events"]["get"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}/events"]["get"]["requestBody"], O_RunCoordinator["/v1/runs/{run_id}/events"]["get"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}/events"]["get"]["responses"][200]["content"], O_RunCoordinator["/v1/runs/{run_id}/events"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/runs/{run_id}/events"]["get"]["responses"]["default"]["content"], O_RunCoordinator["/v1/runs/{run_id}/events"]["get"]["responses"]["default"]["content"]>>();
// run-coordinator create_node_runs
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs"]["post"]["parameters"], O_RunCoordinator["/v1/node-runs"]["post"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs"]["post"]["requestBody"], O_RunCoordinator["/v1/node-runs"]["post"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs"]["post"]["responses"][200]["content"], O_RunCoordinator["/v1/node-runs"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs"]["post"]["responses"]["default"]["content"], O_RunCoordinator["/v1/node-runs"]["post"]["responses"]["default"]["content"]>>();
// run-coordinator get_node_run
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}"]["get"]["parameters"], O_RunCoordinator["/v1/node-runs/{node_run_id}"]["get"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}"]["get"]["requestBody"], O_RunCoordinator["/v1/node-runs/{node_run_id}"]["get"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}"]["get"]["responses"][200]["content"], O_RunCoordinator["/v1/node-runs/{node_run_id}"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}"]["get"]["responses"]["default"]["content"], O_RunCoordinator["/v1/node-runs/{node_run_id}"]["get"]["responses"]["default"]["content"]>>();
// run-coordinator stream_node_run_events
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}/events"]["get"]["parameters"], O_RunCoordinator["/v1/node-runs/{node_run_id}/events"]["get"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}/events"]["get"]["requestBody"], O_RunCoordinator["/v1/node-runs/{node_run_id}/events"]["get"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}/events"]["get"]["responses"][200]["content"], O_RunCoordinator["/v1/node-runs/{node_run_id}/events"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}/events"]["get"]["responses"]["default"]["content"], O_RunCoordinator["/v1/node-runs/{node_run_id}/events"]["get"]["responses"]["default"]["content"]>>();
// run-coordinator report_node_run_evaluation
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}:evaluation"]["post"]["parameters"], O_RunCoordinator["/v1/node-runs/{node_run_id}:evaluation"]["post"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}:evaluation"]["post"]["requestBody"], O_RunCoordinator["/v1/node-runs/{node_run_id}:evaluation"]["post"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}:evaluation"]["post"]["responses"][204]["content"], O_RunCoordinator["/v1/node-runs/{node_run_id}:evaluation"]["post"]["responses"][204]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}:evaluation"]["post"]["responses"]["default"]["content"], O_RunCoordinator["/v1/node-runs/{node_run_id}:evaluation"]["post"]["responses"]["default"]["content"]>>();
// run-coordinator complete_node_run
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}:complete"]["post"]["parameters"], O_RunCoordinator["/v1/node-runs/{node_run_id}:complete"]["post"]["parameters"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}:complete"]["post"]["requestBody"], O_RunCoordinator["/v1/node-runs/{node_run_id}:complete"]["post"]["requestBody"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}:complete"]["post"]["responses"][204]["content"], O_RunCoordinator["/v1/node-runs/{node_run_id}:complete"]["post"]["responses"][204]["content"]>>();
agree<Mutual<C.RunCoordinatorPaths["/v1/node-runs/{node_run_id}:complete"]["post"]["responses"]["default"]["content"], O_RunCoordinator["/v1/node-runs/{node_run_id}:complete"]["post"]["responses"]["default"]["content"]>>();
import type { paths as O_RunGateway } from "./oracle-run-gateway.js";
// run-gateway health
agree<Mutual<C.RunGatewayPaths["/v1/health"]["get"]["parameters"], O_RunGateway["/v1/health"]["get"]["parameters"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/health"]["get"]["requestBody"], O_RunGateway["/v1/health"]["get"]["requestBody"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/health"]["get"]["responses"][200]["content"], O_RunGateway["/v1/health"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/health"]["get"]["responses"]["default"]["content"], O_RunGateway["/v1/health"]["get"]["responses"]["default"]["content"]>>();
// run-gateway version
agree<Mutual<C.RunGatewayPaths["/v1/version"]["get"]["parameters"], O_RunGateway["/v1/version"]["get"]["parameters"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/version"]["get"]["requestBody"], O_RunGateway["/v1/version"]["get"]["requestBody"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/version"]["get"]["responses"][200]["content"], O_RunGateway["/v1/version"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/version"]["get"]["responses"]["default"]["content"], O_RunGateway["/v1/version"]["get"]["responses"]["default"]["content"]>>();
// run-gateway start_run
agree<Mutual<C.RunGatewayPaths["/v1/runs"]["post"]["parameters"], O_RunGateway["/v1/runs"]["post"]["parameters"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs"]["post"]["requestBody"], O_RunGateway["/v1/runs"]["post"]["requestBody"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs"]["post"]["responses"][200]["content"], O_RunGateway["/v1/runs"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs"]["post"]["responses"]["default"]["content"], O_RunGateway["/v1/runs"]["post"]["responses"]["default"]["content"]>>();
// run-gateway get_run
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}"]["get"]["parameters"], O_RunGateway["/v1/runs/{run_id}"]["get"]["parameters"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}"]["get"]["requestBody"], O_RunGateway["/v1/runs/{run_id}"]["get"]["requestBody"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}"]["get"]["responses"][200]["content"], O_RunGateway["/v1/runs/{run_id}"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}"]["get"]["responses"]["default"]["content"], O_RunGateway["/v1/runs/{run_id}"]["get"]["responses"]["default"]["content"]>>();
// run-gateway cancel_run
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}:cancel"]["post"]["parameters"], O_RunGateway["/v1/runs/{run_id}:cancel"]["post"]["parameters"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}:cancel"]["post"]["requestBody"], O_RunGateway["/v1/runs/{run_id}:cancel"]["post"]["requestBody"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}:cancel"]["post"]["responses"][200]["content"], O_RunGateway["/v1/runs/{run_id}:cancel"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}:cancel"]["post"]["responses"]["default"]["content"], O_RunGateway["/v1/runs/{run_id}:cancel"]["post"]["responses"]["default"]["content"]>>();
// run-gateway stream_run_events
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}/events"]["get"]["parameters"], O_RunGateway["/v1/runs/{run_id}/events"]["get"]["parameters"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}/events"]["get"]["requestBody"], O_RunGateway["/v1/runs/{run_id}/events"]["get"]["requestBody"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}/events"]["get"]["responses"][200]["content"], O_RunGateway["/v1/runs/{run_id}/events"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.RunGatewayPaths["/v1/runs/{run_id}/events"]["get"]["responses"]["default"]["content"], O_RunGateway["/v1/runs/{run_id}/events"]["get"]["responses"]["default"]["content"]>>();
import type { paths as O_Selection } from "./oracle-selection.js";
// selection health
agree<Mutual<C.SelectionPaths["/v1/health"]["get"]["parameters"], O_Selection["/v1/health"]["get"]["parameters"]>>();
agree<Mutual<C.SelectionPaths["/v1/health"]["get"]["requestBody"], O_Selection["/v1/health"]["get"]["requestBody"]>>();
agree<Mutual<C.SelectionPaths["/v1/health"]["get"]["responses"][200]["content"], O_Selection["/v1/health"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.SelectionPaths["/v1/health"]["get"]["responses"]["default"]["content"], O_Selection["/v1/health"]["get"]["responses"]["default"]["content"]>>();
// selection version
agree<Mutual<C.SelectionPaths["/v1/version"]["get"]["parameters"], O_Selection["/v1/version"]["get"]["parameters"]>>();
agree<Mutual<C.SelectionPaths["/v1/version"]["get"]["requestBody"], O_Selection["/v1/version"]["get"]["requestBody"]>>();
agree<Mutual<C.SelectionPaths["/v1/version"]["get"]["responses"][200]["content"], O_Selection["/v1/version"]["get"]["responses"][200]["content"]>>();
agree<Mutual<C.SelectionPaths["/v1/version"]["get"]["responses"]["default"]["content"], O_Selection["/v1/version"]["get"]["responses"]["default"]["content"]>>();
// selection generate_candidate_set
agree<Mutual<C.SelectionPaths["/v1/candidate-sets"]["post"]["parameters"], O_Selection["/v1/candidate-sets"]["post"]["parameters"]>>();
agree<Mutual<C.SelectionPaths["/v1/candidate-sets"]["post"]["requestBody"], O_Selection["/v1/candidate-sets"]["post"]["requestBody"]>>();
agree<Mutual<C.SelectionPaths["/v1/candidate-sets"]["post"]["responses"][200]["content"], O_Selection["/v1/candidate-sets"]["post"]["responses"][200]["content"]>>();
agree<Mutual<C.SelectionPaths["/v1/candidate-sets"]["post"]["responses"]["default"]["content"], O_Selection["/v1/candidate-sets"]["post"]["responses"]["default"]["content"]>>();
