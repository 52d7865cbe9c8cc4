package io.kubevmm.node.qmp;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;

/**
 * An asynchronous QMP event such as {@code STOP}, {@code RESUME}, {@code SHUTDOWN} or {@code MIGRATION}.
 *
 * @param name      the event name exactly as QEMU sends it
 * @param data      the event's {@code data} member; an empty object for events that carry none
 *                  (QEMU omits {@code data} for STOP and RESUME, for example)
 * @param timestamp when QEMU emitted the event, by QEMU's host clock
 */
public record QmpEvent(String name, JsonNode data, Instant timestamp) { }
