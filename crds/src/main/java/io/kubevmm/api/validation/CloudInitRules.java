package io.kubevmm.api.validation;

import io.kubevmm.api.v1alpha1.CloudInitSpec;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What {@code spec.cloudInit} may say. Its strings end up as files on the seed disk, never on a
 * QEMU command line or in a host path; the rules keep them to what cloud-init can use: one of
 * inline or Secret user-data, documents within the seed's size, and SSH keys that are one public
 * key line each (a newline would smuggle a second entry into authorized_keys).
 */
public final class CloudInitRules {
    private static final Pattern SECRET_NAME = Pattern.compile(CloudInitSpec.SECRET_NAME_PATTERN);
    private static final Pattern SECRET_KEY = Pattern.compile(CloudInitSpec.SECRET_KEY_PATTERN);
    /** The key types OpenSSH 9 accepts in authorized_keys. */
    static final Set<String> KEY_TYPES = Set.of("ssh-ed25519", "ssh-rsa", "ssh-dss",
            "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
            "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com");
    private static final String KEY_FIX = "give one public key line such as the content of ~/.ssh/id_ed25519.pub";

    private CloudInitRules() { }

    static void check(CloudInitSpec spec, List<FieldError> errors) {
        String at = "spec.cloudInit";
        if (spec.getUserData() != null && spec.getUserDataSecretRef() != null) {
            errors.add(new FieldError(at, "has both userData and userDataSecretRef; give the user-data inline or from a Secret, not both"));
        }
        size(at + ".userData", spec.getUserData(), errors);
        size(at + ".networkData", spec.getNetworkData(), errors);
        CloudInitSpec.SecretKeyRef ref = spec.getUserDataSecretRef();
        if (ref != null) {
            if (ref.getName() == null || ref.getName().length() > 253 || !SECRET_NAME.matcher(ref.getName()).matches()) {
                errors.add(new FieldError(at + ".userDataSecretRef.name", (ref.getName() == null ? "is required"
                        : "\"" + shorten(ref.getName()) + "\" is not a Secret name") + "; give the name of a Secret in the VM's namespace"));
            }
            if (ref.getKey() == null || ref.getKey().length() > 253 || !SECRET_KEY.matcher(ref.getKey()).matches()) {
                errors.add(new FieldError(at + ".userDataSecretRef.key", (ref.getKey() == null ? "is required"
                        : "\"" + shorten(ref.getKey()) + "\" is not a Secret key") + "; give the key in the Secret's data that holds the user-data (example: userdata)"));
            }
        }
        List<String> keys = spec.getSshAuthorizedKeys();
        if (keys != null) {
            if (keys.size() > CloudInitSpec.MAX_KEYS) {
                errors.add(new FieldError(at + ".sshAuthorizedKeys", "has " + keys.size() + " keys, more than " + CloudInitSpec.MAX_KEYS));
                return;
            }
            for (int i = 0; i < keys.size(); i++) {
                String problem = keyProblem(keys.get(i));
                if (problem != null) {
                    errors.add(new FieldError(at + ".sshAuthorizedKeys[" + i + "]", problem));
                }
            }
        }
    }

    /** Why {@code key} is not one authorized_keys line, or null when it is. */
    static String keyProblem(String key) {
        if (key == null || key.isBlank()) {
            return "is empty; " + KEY_FIX;
        }
        if (key.length() > CloudInitSpec.MAX_KEY) {
            return "has " + key.length() + " characters, more than " + CloudInitSpec.MAX_KEY + "; " + KEY_FIX;
        }
        if (key.chars().anyMatch(c -> c < ' ' && c != '\t' || c == 0x7f)) {
            return "contains a line break or control character; " + KEY_FIX;
        }
        String[] parts = key.strip().split("[ \t]+");
        if (parts.length < 2 || !KEY_TYPES.contains(parts[0])) {
            return "\"" + shorten(key) + "\" does not start with a key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...) and the key; "
                    + KEY_FIX + " (options before the key type are not accepted)";
        }
        try {
            Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            return "\"" + shorten(key) + "\": the key after " + parts[0] + " is not base64; " + KEY_FIX;
        }
        return null;
    }

    private static void size(String field, String document, List<FieldError> errors) {
        if (document != null) {
            int bytes = document.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > CloudInitSpec.MAX_DOCUMENT) {
                errors.add(new FieldError(field, "has " + bytes + " bytes, more than " + CloudInitSpec.MAX_DOCUMENT
                        + " (64 KiB); keep it smaller, for example by fetching large files from the guest (write_files with a URL, runcmd)"));
            }
        }
    }

    private static String shorten(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
