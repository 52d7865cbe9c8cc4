package io.kubevmm.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Reads the objects of {@code apply -f}: multi-document YAML (or JSON), a v1 List, or a directory of them. */
final class ManifestReader {
    /** One object from a file; {@code source} is the path as the user typed it, for messages. */
    record Manifest(String source, int document, Map<String, Object> tree) {
        String kindName() {
            return tree.get("kind") instanceof String s ? s : null;
        }

        String name() {
            return JsonPath.string(tree, ".metadata.name");
        }

        /** How messages name it: {@code VirtualMachine demo}, or its position when it has no name. */
        String label() {
            String kind = kindName() == null ? "object" : kindName();
            return name() == null ? kind + " (document " + document + ")" : kind + " " + name();
        }
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ManifestReader() { }

    static List<Manifest> read(String typed, Environment env, InputStream stdin) {
        if ("-".equals(typed)) {
            return parse("<stdin>", stdin);
        }
        Path path = env.resolve(typed);
        if (Files.isDirectory(path)) {
            List<Manifest> all = new ArrayList<>();
            try (Stream<Path> files = Files.list(path)) {
                files.filter(f -> f.toString().matches(".*\\.(ya?ml|json)$")).sorted()
                        .forEach(f -> all.addAll(read(typed.replaceAll("/$", "") + "/" + f.getFileName(), env, stdin)));
            } catch (IOException e) {
                throw new CliException(typed + ": cannot list the directory (" + ApiErrors.reason(e) + ")");
            }
            return all;
        }
        if (!Files.isRegularFile(path)) {
            throw new CliException(typed + ": no such file");
        }
        try (InputStream in = Files.newInputStream(path)) {
            return parse(typed, in);
        } catch (IOException e) {
            throw new CliException(typed + ": cannot read (" + ApiErrors.reason(e) + ")");
        }
    }

    @SuppressWarnings("unchecked")
    static List<Manifest> parse(String source, InputStream in) {
        List<Manifest> manifests = new ArrayList<>();
        try (MappingIterator<Object> documents = YAML.readerFor(Object.class).readValues(in)) {
            int document = 0;
            while (documents.hasNextValue()) {
                Object value = documents.nextValue();
                document++;
                if (value == null) {
                    continue; // an empty document between two "---"
                }
                if (!(value instanceof Map<?, ?> map)) {
                    throw new CliException(source + ": document " + document + " is not an object");
                }
                if ("List".equals(map.get("kind")) && map.get("items") instanceof List<?> items) {
                    for (Object item : items) {
                        manifests.add(new Manifest(source, document, (Map<String, Object>) item));
                    }
                } else {
                    manifests.add(new Manifest(source, document, (Map<String, Object>) map));
                }
            }
        } catch (JsonProcessingException e) {
            throw new CliException(source + ": not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            throw new CliException(source + ": cannot read (" + ApiErrors.reason(e) + ")");
        }
        return manifests;
    }
}
