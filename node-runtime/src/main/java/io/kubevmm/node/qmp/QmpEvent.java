package io.kubevmm.node.qmp;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;

/** An asynchronous QMP event such as SHUTDOWN, STOP, RESUME or MIGRATION. */
public record QmpEvent(String name, JsonNode data, Instant timestamp) { }
