package io.kubevmm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.kubevmm.api.v1alpha1.Labels;

import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local API server's dispatcher: the CRUD mock, plus the CRD schemas' {@code maxLength}
 * enforced on writes of KubeVMM objects, answered as a real API server answers (422, the field
 * named). The mock enforces no schema; this part of it matters locally because an object past
 * those limits (e.g. a 70 KB boot.cmdline) makes a watch event over 64 KiB, which the mock sends
 * as a fragmented WebSocket message that fabric8's Vert.x client never completes: the operator's
 * watch would stall without an error. A request the mock cannot apply (it throws, and would
 * never answer) gets the 422 a real API server sends. Enums and ranges stay unenforced, as on an API server
 * whose stored objects predate the schema: the operator's lenient reading handles those.
 */
final class LengthLimits extends KubernetesMixedDispatcher {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern KIND_PATH = Pattern.compile("^/apis/" + Pattern.quote(Labels.GROUP)
            + "/[^/]+/(?:namespaces/[^/]+/)?([a-z]+)(?:/[^/?]+)?(?:/status)?(?:\\?.*)?$");

    private final Map<String, JSONSchemaProps> schemas;

    LengthLimits(Map<ServerRequest, Queue<ServerResponse>> expectations, List<CustomResourceDefinition> crds) {
        super(expectations);
        this.schemas = new java.util.HashMap<>();
        crds.forEach(crd -> schemas.put(crd.getSpec().getNames().getPlural(),
                crd.getSpec().getVersions().getFirst().getSchema().getOpenAPIV3Schema()));
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        String method = request.getMethod();
        if ("POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method)) {
            Matcher m = KIND_PATH.matcher(request.getPath());
            JSONSchemaProps schema = m.matches() ? schemas.get(m.group(1)) : null;
            String contentType = Optional.ofNullable(request.getHeader("Content-Type")).orElse("");
            if (schema != null && !contentType.contains("json-patch")) {
                // getBytes leaves the body unread for the CRUD dispatcher (getUtf8Body would consume it).
                Optional<String> problem = check(new String(request.getBody().getBytes(), java.nio.charset.StandardCharsets.UTF_8), schema);
                if (problem.isPresent()) {
                    return new MockResponse().setResponseCode(422).addHeader("Content-Type: application/json")
                            .setBody(status(m.group(1), problem.get()));
                }
            }
        }
        try {
            return super.dispatch(request);
        } catch (RuntimeException e) {
            // The mock throws where a real API server refuses (a JSON Patch whose test op fails, a
            // replace of a missing field) and then never answers: the client would wait 10 s and retry.
            return new MockResponse().setResponseCode(422).addHeader("Content-Type: application/json")
                    .setBody(JSON.createObjectNode().put("kind", "Status").put("apiVersion", "v1").put("status", "Failure")
                            .put("message", "the request does not apply to the stored object: " + e.getMessage())
                            .put("reason", "Invalid").put("code", 422).toString());
        }
    }

    private static Optional<String> check(String body, JSONSchemaProps schema) {
        try {
            return check(JSON.readTree(body), schema, "");
        } catch (IOException e) {
            return Optional.empty(); // the CRUD mock answers malformed bodies itself
        }
    }

    private static Optional<String> check(JsonNode value, JSONSchemaProps schema, String at) {
        if (value == null || schema == null) {
            return Optional.empty();
        }
        if (value.isTextual() && schema.getMaxLength() != null && value.asText().length() > schema.getMaxLength()) {
            return Optional.of(at.substring(1) + ": Too long: may not be more than " + schema.getMaxLength()
                    + " bytes (it has " + value.asText().length() + ")");
        }
        if (value.isObject() && schema.getProperties() != null) {
            for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                Optional<String> problem = check(field.getValue(), schema.getProperties().get(field.getKey()), at + "." + field.getKey());
                if (problem.isPresent()) {
                    return problem;
                }
            }
        }
        if (value.isArray() && schema.getItems() != null && schema.getItems().getSchema() != null) {
            for (int i = 0; i < value.size(); i++) {
                Optional<String> problem = check(value.get(i), schema.getItems().getSchema(), at + "[" + i + "]");
                if (problem.isPresent()) {
                    return problem;
                }
            }
        }
        return Optional.empty();
    }

    private static String status(String plural, String message) {
        var status = JSON.createObjectNode().put("kind", "Status").put("apiVersion", "v1").put("status", "Failure")
                .put("message", plural + "." + Labels.GROUP + " is invalid: " + message).put("reason", "Invalid").put("code", 422);
        return status.toString();
    }
}
