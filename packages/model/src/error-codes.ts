/**
 * The error codes the ARP SDKs' servers answer with (`@arp/server`, and the Python server kit): one
 * list, so that editors complete them wherever a `code` is typed (`@arp/server`'s `ArpServerErrorCode`,
 * `@arp/client`'s `ArpErrorCode`). The ARP contract does not enumerate codes: a service may send any
 * string, and every type that uses this list also accepts one.
 */
export type ArpWireErrorCode =
  | "invalid_request"
  | "invalid_json"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "request_timeout"
  | "payload_too_large"
  | "headers_too_large"
  | "unsupported_media_type"
  | "internal_error"
  | "not_implemented"
  | "unavailable";
