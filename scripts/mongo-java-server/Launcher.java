import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;

/** Starts mongo-java-server with its H2 file backend on 127.0.0.1:<port>, storing in <file>. */
public class Launcher {
    public static void main(String[] args) throws Exception {
        MongoServer server = new MongoServer(new H2Backend(args[1]));
        server.bind("127.0.0.1", Integer.parseInt(args[0]));
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        System.out.println("ready");
        Thread.currentThread().join();
    }
}
