package io.kubevmm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

import java.util.List;

/**
 * cloud-init configuration the node hands the guest as a NoCloud seed: a small read-only disk
 * labelled {@code cidata} with {@code meta-data}, {@code user-data} and, when given,
 * {@code network-config}. The seed's instance-id is the VirtualMachine's uid, so cloud-init runs
 * its once-per-instance steps on the first boot and again only in a clone (a new VM).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!(has(self.userData) && has(self.userDataSecretRef))",
        message = "cloudInit has both userData and userDataSecretRef; give one")
public class CloudInitSpec {
    /** Largest user-data or network-config accepted, in bytes (the seed disk holds 1 MiB). */
    public static final int MAX_DOCUMENT = 64 * 1024;
    /** Most SSH keys accepted. */
    public static final int MAX_KEYS = 32;
    /** Longest single SSH public key line (an RSA 16384-bit key is about 2.8 KB). */
    public static final int MAX_KEY = 4096;

    @Size(max = MAX_DOCUMENT)
    @JsonPropertyDescription("cloud-init user-data, inline (for example a '#cloud-config' document), at most 64 KiB. "
            + "Give this or userDataSecretRef, not both; for anything secret (passwords, tokens) use userDataSecretRef.")
    private String userData;
    @JsonPropertyDescription("user-data read from a key of a Secret in the VM's namespace when the VM starts; "
            + "its content never appears in status, Events or logs.")
    private SecretKeyRef userDataSecretRef;
    @Size(max = MAX_DOCUMENT)
    @JsonPropertyDescription("cloud-init network-config (version 1 or 2), at most 64 KiB. Unset: the image's default (DHCP on the first NIC).")
    private String networkData;
    @Size(max = MAX_KEYS)
    @JsonPropertyDescription("SSH public keys (one 'ssh-ed25519 AAAA... comment' line each) cloud-init installs for the image's default user.")
    private List<String> sshAuthorizedKeys;

    public String getUserData() { return userData; }

    public void setUserData(String userData) { this.userData = userData; }

    public SecretKeyRef getUserDataSecretRef() { return userDataSecretRef; }

    public void setUserDataSecretRef(SecretKeyRef userDataSecretRef) { this.userDataSecretRef = userDataSecretRef; }

    public String getNetworkData() { return networkData; }

    public void setNetworkData(String networkData) { this.networkData = networkData; }

    public List<String> getSshAuthorizedKeys() { return sshAuthorizedKeys; }

    public void setSshAuthorizedKeys(List<String> sshAuthorizedKeys) { this.sshAuthorizedKeys = sshAuthorizedKeys; }

    /** A Secret's name: a DNS subdomain. */
    public static final String SECRET_NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    /** A key of a Secret's data. */
    public static final String SECRET_KEY_PATTERN = "^[-._a-zA-Z0-9]+$";

    /** A key of a Secret in the same namespace. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class SecretKeyRef {
        @Required
        @Size(max = 253)
        @Pattern(SECRET_NAME_PATTERN)
        @JsonPropertyDescription("Name of the Secret (in the VM's namespace).")
        private String name;
        @Required
        @Size(max = 253)
        @Pattern(SECRET_KEY_PATTERN)
        @JsonPropertyDescription("Key in the Secret's data whose value is the user-data.")
        private String key;

        public SecretKeyRef() { }

        public SecretKeyRef(String name, String key) {
            this.name = name;
            this.key = key;
        }

        public String getName() { return name; }

        public void setName(String name) { this.name = name; }

        public String getKey() { return key; }

        public void setKey(String key) { this.key = key; }
    }
}
