package io.kubevmm.node.agent;

/**
 * A guest-agent command that the agent refused, that got no answer in time, or that could not be
 * sent because the channel ended. The message names the command and says why.
 */
public class AgentException extends Exception {
    private final boolean noAnswer;

    AgentException(String message, boolean noAnswer) {
        super(message);
        this.noAnswer = noAnswer;
    }

    AgentException(String message, Throwable cause) {
        super(message, cause);
        this.noAnswer = true;
    }

    /** True when the agent did not answer (timeout, closed channel) rather than answered with an error. */
    public boolean noAnswer() {
        return noAnswer;
    }
}
