// Command kube is one multi-call binary holding the local cluster's control plane (etcd,
// kube-apiserver, kube-controller-manager) and the kubectl of the same release. One binary
// links the shared Kubernetes code once, which keeps a newcomer's first build short. The
// component is chosen by the name the binary is called by (a symlink named etcd,
// kube-apiserver, kube-controller-manager, kubectl) or by the first argument:
// kube etcd --data-dir=...
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

var components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"}

func main() {
	name, args := filepath.Base(os.Args[0]), os.Args[1:]
	if !known(name) && len(args) > 0 && known(args[0]) {
		name, args = args[0], args[1:]
	}
	// Each component reads its own name and flags from os.Args as its own binary would.
	os.Args = append([]string{name}, args...)
	switch name {
	case "etcd":
		etcdmain.Main(os.Args)
	case "kube-apiserver":
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "kube-controller-manager":
		os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
	case "kubectl":
		if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
	default:
		fmt.Fprintf(os.Stderr, "usage: kube {%s} [flags]  (or call it through a link of that name)\n",
			"etcd|kube-apiserver|kube-controller-manager|kubectl")
		os.Exit(2)
	}
}

func known(name string) bool {
	for _, c := range components {
		if c == name {
			return true
		}
	}
	return false
}
