export default function Home() {
  return <main>Pantheon</main>;
}
