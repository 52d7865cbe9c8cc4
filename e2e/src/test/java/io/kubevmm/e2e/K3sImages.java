package io.kubevmm.e2e;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.MountableFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The KubeVMM images, built with Docker from {@code docker/<app>.Dockerfile} exactly as the
 * README builds them, and imported into a k3s node's containerd (the chart then runs them with
 * {@code pullPolicy: Never}).
 */
final class K3sImages {
    static final String REPOSITORY_PREFIX = "ghcr.io/kubevmm/";

    private K3sImages() { }

    /** Builds {@code ghcr.io/kubevmm/<app>:<tag>} from the app's packaged Quarkus fast-jar. */
    @SuppressWarnings("deprecation") // withDockerfile(Path) would make docker/ the context; ours is the repository root
    static String build(Path repo, String app, String tag) {
        String dockerfile = "docker/" + app + ".Dockerfile";
        Path quarkusApp = repo.resolve(app).resolve("target/quarkus-app");
        if (!Files.isDirectory(quarkusApp)) {
            throw new IllegalStateException(quarkusApp + " missing: package the apps first (mvn -B -DskipTests package)");
        }
        // Only what the Dockerfile copies is sent as the build context, not the whole repository.
        return new ImageFromDockerfile(REPOSITORY_PREFIX + app + ":" + tag, false)
                .withFileFromPath(dockerfile, repo.resolve(dockerfile))
                .withFileFromPath(app + "/target/quarkus-app", quarkusApp)
                .withDockerfilePath(dockerfile)
                .get();
    }

    /** {@code docker save} on this machine, then {@code ctr images import} inside the k3s node. */
    static void load(K3sContainer k3s, String app, String tag, Path workDir) throws IOException, InterruptedException {
        Path tar = workDir.resolve(app + "-" + tag + ".tar");
        try (InputStream image = DockerClientFactory.instance().client()
                .saveImageCmd(REPOSITORY_PREFIX + app).withTag(tag).exec()) {
            Files.copy(image, tar, StandardCopyOption.REPLACE_EXISTING);
        }
        String inNode = "/tmp/" + tar.getFileName();
        k3s.copyFileToContainer(MountableFile.forHostPath(tar), inNode);
        var imported = k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", inNode);
        if (imported.getExitCode() != 0) {
            throw new IllegalStateException("ctr images import " + app + ":" + tag + " failed: " + imported.getStderr());
        }
    }
}
