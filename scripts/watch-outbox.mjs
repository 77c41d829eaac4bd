// `npm run watch-outbox -- amqp://guest:guest@127.0.0.1:<port>`: prints each message the sandbox's outbox publishes
// (the durable `outbox` queue, so messages published before it started are shown too), until Ctrl-C.
import process from 'node:process';
import amqp from 'amqplib';

const url = process.argv[2] ?? process.env.RABBITMQ_URL;
if (!url) {
  process.stderr.write(
    'usage: npm run watch-outbox -- amqp://guest:guest@127.0.0.1:<port> (npm start prints it)\n',
  );
  process.exit(2);
}
const connection = await amqp.connect(url);
const channel = await connection.createChannel();
await channel.assertQueue('outbox', { durable: true });
process.stderr.write(`watching queue outbox on ${url.replace(/\/\/[^@]*@/, '//')} (Ctrl-C to stop)\n`);
await channel.consume('outbox', (message) => {
  if (!message) return;
  process.stdout.write(`${message.fields.routingKey} ${message.content.toString()}\n`);
  channel.ack(message);
});
process.once('SIGINT', () => {
  connection.close().finally(() => process.exit(0));
});
