package io.kubevmm.api.v1alpha1;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The CRDs of every KubeVMM kind, as fabric8's crd-generator made them from this model and
 * packaged them in this jar (the same YAML is committed under crds/). Tests elsewhere register
 * them in a mock API server: {@code Crds.all().forEach(crd -> client.resource(crd).create())}.
 */
public final class Crds {
    /** Plural names, in the order an installer applies them. */
    public static final List<String> PLURALS = List.of(
            "virtualmachines", "virtualmachineinstances", "vmnodes", "vmmigrations", "vmsnapshots", "vmrestores", "vmnetworks");

    private Crds() { }

    /** Classpath resource holding the CRD of one kind, e.g. {@code META-INF/fabric8/vmnodes.kubevmm.io-v1.yml}. */
    public static String resource(String plural) {
        return "META-INF/fabric8/" + plural + "." + Labels.GROUP + "-v1.yml";
    }

    /** Every kind's CRD, parsed; fails naming the resource when the jar lacks one. */
    public static List<CustomResourceDefinition> all() {
        List<CustomResourceDefinition> crds = new ArrayList<>();
        for (String plural : PLURALS) {
            String resource = resource(plural);
            try (InputStream in = Crds.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException(resource + " is not on the classpath; build the crds module"
                            + " (mvn -pl crds install) so the crd-generator writes it");
                }
                crds.add(Serialization.unmarshal(in, CustomResourceDefinition.class));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + resource, e);
            }
        }
        return crds;
    }
}
