namespace NodeAgent.Kubelet;
