/** Entry point: defines every element; index.html holds the one <theia-app>. */
import './components/app/app.js';
